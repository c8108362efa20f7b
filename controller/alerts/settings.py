"""The [alerts] table of config.toml: feeds to poll, the policy table, repeats and limits.

    [alerts]
    repeat_minutes = 30            # repeat an aired alert this often until it expires
    commune_geocodes = ["89"]      # codes meaning "the whole commune/district/province"
    unsigned_feeds_draft = false   # true: alerts from feeds without signatures only make drafts
    [[alerts.feeds]]
    name = "kttv-an-giang"
    url = "https://…/cap/atom.xml"
    interval_s = 60
    require_signature = true
    certificate = "keys/kttv.pem"  # relative to the data directory
    [[alerts.policy]]
    severity = ["Extreme", "Severe"]
    urgency = ["Immediate"]
    action = "emergency"
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from controller.alerts import policy

MAX_BYTES_LIMITS = (10_000, 10_000_000)


@dataclass(frozen=True)
class Feed:
    """One warning feed the controller polls."""

    name: str
    """Short name shown in the log (letters, digits, '-', '_')."""
    url: str
    """http(s) URL of an Atom/RSS feed of CAP links, or of one CAP document."""
    interval_s: int = 60
    """Seconds between polls."""
    timeout_s: float = 10.0
    """A fetch slower than this is abandoned and logged."""
    require_signature: bool = False
    """Refuse alerts without a valid XML signature by `certificate`."""
    certificate: str = ""
    """PEM certificate of the authority, relative to the data directory."""


@dataclass(frozen=True)
class AlertSettings:
    """Validated [alerts] settings."""

    feeds: tuple[Feed, ...] = ()
    rules: tuple[policy.Rule, ...] = policy.DEFAULT_RULES
    repeat_minutes: int = 30
    """Minutes between repeats of an aired alert (a CAP parameter repeat_minutes may override)."""
    commune_geocodes: frozenset[str] = frozenset()
    unsigned_feeds_draft: bool = False
    max_bytes: int = 1_000_000
    """Largest CAP document accepted."""


def _feed(item, i: int) -> Feed:
    if not isinstance(item, dict):
        raise ValueError(f"'alerts.feeds[{i}]' must be a table")
    unknown = set(item) - set(Feed.__dataclass_fields__)
    if unknown:
        raise ValueError(f"'alerts.feeds[{i}].{sorted(unknown)[0]}' is unknown")
    name, url = str(item.get("name", "")), str(item.get("url", ""))
    if not name or not all(c.isalnum() or c in "-_" for c in name) or len(name) > 60:
        raise ValueError(f"'alerts.feeds[{i}].name' must be letters, digits, '-' or '_'")
    if urlparse(url).scheme not in ("http", "https") or not urlparse(url).hostname:
        raise ValueError(f"'alerts.feeds[{i}].url' must be an http(s) URL")
    feed = Feed(name=name, url=url, interval_s=int(item.get("interval_s", 60)),
                timeout_s=float(item.get("timeout_s", 10)),
                require_signature=bool(item.get("require_signature", False)),
                certificate=str(item.get("certificate", "")))
    if not 5 <= feed.interval_s <= 86_400:
        raise ValueError(f"'alerts.feeds[{i}].interval_s' must be 5 to 86400 seconds")
    if feed.require_signature and not feed.certificate:
        raise ValueError(f"'alerts.feeds[{i}].certificate' is needed when require_signature is on")
    return feed


def alert_settings(raw: dict | None) -> AlertSettings:
    """Validate the [alerts] table; ValueError naming the key."""
    raw = raw or {}
    known = {"feeds", "policy", "repeat_minutes", "commune_geocodes", "unsigned_feeds_draft",
             "max_bytes"}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"'alerts.{sorted(unknown)[0]}' is unknown")
    feeds = tuple(_feed(f, i) for i, f in enumerate(raw.get("feeds", [])))
    if len({f.name for f in feeds}) != len(feeds):
        raise ValueError("'alerts.feeds' has two feeds with one name")
    try:
        rules = policy.rules_from_config(raw.get("policy"))
    except policy.PolicyError as exc:
        raise ValueError(f"'{exc}'") from None
    repeat = raw.get("repeat_minutes", 30)
    if not isinstance(repeat, int) or not 0 <= repeat <= 1440:
        raise ValueError("'alerts.repeat_minutes' must be 0 (no repeats) to 1440")
    max_bytes = raw.get("max_bytes", 1_000_000)
    if not isinstance(max_bytes, int) or not MAX_BYTES_LIMITS[0] <= max_bytes <= MAX_BYTES_LIMITS[1]:
        raise ValueError("'alerts.max_bytes' must be 10000 to 10000000")
    codes = raw.get("commune_geocodes", [])
    if not isinstance(codes, list):
        raise ValueError("'alerts.commune_geocodes' must be a list of codes")
    return AlertSettings(feeds=feeds, rules=rules, repeat_minutes=repeat,
                         commune_geocodes=frozenset(str(c) for c in codes),
                         unsigned_feeds_draft=bool(raw.get("unsigned_feeds_draft", False)),
                         max_bytes=max_bytes)
