"""The mock province for tests: the shipped one (the demo uses it too), re-exported here."""

from controller.province.mock import (  # noqa: F401
    PASSWORD,
    USERNAME,
    Faults,
    MockProvince,
    MockProvinceServer,
    push,
)
