"""One controller per data directory: a second `start()` is refused with a clear message."""

from __future__ import annotations

import dataclasses

import pytest

from controller.runtime import Controller


def test_second_controller_on_the_same_data_directory_is_refused(settings, broker):
    url = f"mqtt://controller:{broker.controller_password}@127.0.0.1:{broker.controller_port}"
    s = dataclasses.replace(settings, broker_url=url, run_scheduler=False)
    first = Controller(s)
    first.start(web_port=1)
    try:
        second = Controller(s)
        with pytest.raises(RuntimeError, match="another controller is already running"):
            second.start(web_port=1)
    finally:
        first.stop()
    third = Controller(s)  # once the first has stopped, the lock is free again
    third.start(web_port=1)
    third.stop()
