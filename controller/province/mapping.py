"""The mapping file: field names, endpoint paths and ids, from `DATA/province.toml` over the default.

The shipped default (data/province.toml) holds the field names public implementations use.
A province's file only needs the keys that differ; tables are merged key by key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FILE = Path(__file__).parent / "data" / "province.toml"
FILE_NAME = "province.toml"
PRIORITY_LEVELS = {"emergency": 1, "priority": 2, "normal": 3}
"""MucDoUuTien: 1 emergency (khẩn cấp), 2 priority (ưu tiên), 3 normal (thông thường)."""


class MappingError(ValueError):
    """The mapping file cannot be used; the message names the file and the key."""


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(
            out.get(key), dict) else value
    return out


@dataclass(frozen=True)
class Mapping:
    """The merged mapping; `raw` is the TOML tables."""

    raw: dict

    def fields(self, table: str) -> dict[str, str]:
        """Field names of one message kind (device_status, aired_log, bulletin, auth, envelope)."""
        return self.raw[table]

    def path(self, operation: str) -> str:
        """The endpoint path of an upward operation."""
        return self.raw["endpoints"][operation]

    @property
    def source_id(self) -> str:
        """Our NguonId at the province."""
        return str(self.raw["ids"]["source_id"])

    @property
    def own_field(self) -> int:
        """LinhVuc of the commune's own bulletins."""
        return int(self.raw["ids"].get("field", 1))

    def speaker_code(self, speaker_id: str) -> str:
        """The province's CumLoaId of one of our speakers."""
        return str(self.raw["ids"].get("speakers", {}).get(speaker_id, speaker_id))

    def hamlet_for_area(self, code: str) -> str | None:
        """Our hamlet name for a province area code, or None when the code is not mapped."""
        return self.raw["ids"].get("areas", {}).get(str(code))


def load(data_dir: Path) -> Mapping:
    """The default mapping overlaid with `data_dir/province.toml` when present."""
    raw = tomllib.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    path = Path(data_dir) / FILE_NAME
    if path.exists():
        try:
            raw = _merge(raw, tomllib.loads(path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(f"{path}: {exc}") from None
    for table in ("endpoints", "auth", "envelope", "device_status", "aired_log", "bulletin", "ids"):
        if not isinstance(raw.get(table), dict):
            raise MappingError(f"{path}: table [{table}] is missing")
    for key, value in raw["endpoints"].items():
        if not isinstance(value, str) or not value.startswith("/"):
            raise MappingError(f"{path}: endpoints.{key} must be a path starting with '/'")
    return Mapping(raw)
