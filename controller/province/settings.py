"""The [province] table of config.toml: where the province is, credentials, timings, policy.

    [province]
    enabled = true
    base_url = "https://nguon.tinh.gov.vn"
    username = "xa-my-hoa-hung"
    password = "…"
    ca_file = "keys/province-ca.pem"   # relative to the data directory; empty: system CAs
    inbound_token = "…"                # what the province sends down as Bearer
    heartbeat_s = 300
    alarm_after_s = 3600
    [[province.policy]]                # same shape as [[alerts.policy]]
    priority = [1]
    action = "emergency"

The policy table is the CAP alerts' idea with MucDoUuTien (1, 2, 3) in place of severity ×
urgency, and the same actions: emergency, priority, draft (wait for an approver), ignore.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

ACTIONS = ("emergency", "priority", "normal", "draft", "ignore")
DEFAULT_POLICY = ((frozenset({1}), "emergency"), (frozenset({2}), "priority"),
                  (frozenset({3}), "normal"))
"""By default a province bulletin airs at its own level; a commune may make any level a draft."""


@dataclass(frozen=True)
class ProvinceSettings:
    """Validated [province] settings."""

    enabled: bool = False
    base_url: str = ""
    username: str = ""
    password: str = ""
    ca_file: str = ""
    """PEM bundle to verify the province's certificate; empty uses the system's CAs."""
    inbound_token: str = ""
    """Bearer token the province presents when it sends bulletins down."""
    heartbeat_s: int = 300
    """Every speaker's status is sent at least this often."""
    alarm_after_s: int = 3600
    """The page shows an alarm when the oldest unsent record is older than this."""
    timeout_s: float = 10.0
    lanes: int = 4
    """Records are sent in this many parallel lanes; a speaker's records stay in one lane, in order."""
    max_audio_bytes: int = 50_000_000
    """A bulletin's Link larger than this is refused before and while downloading."""
    policy: tuple = DEFAULT_POLICY

    def action_for(self, level: int) -> str:
        """What the commune does with a bulletin of this MucDoUuTien: the first matching rule."""
        for levels, action in self.policy:
            if level in levels:
                return action
        return "draft"


def _policy(raw) -> tuple:
    if raw is None:
        return DEFAULT_POLICY
    if not isinstance(raw, list):
        raise ValueError("'province.policy' must be a list of tables ([[province.policy]])")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("action") not in ACTIONS:
            raise ValueError(f"'province.policy[{i}].action' must be one of {', '.join(ACTIONS)}")
        levels = item.get("priority", [1, 2, 3])
        levels = [levels] if isinstance(levels, int) else list(levels)
        if not levels or any(v not in (1, 2, 3) for v in levels):
            raise ValueError(f"'province.policy[{i}].priority' must be levels among 1, 2, 3")
        out.append((frozenset(levels), item["action"]))
    return tuple(out)


def province_settings(raw: dict | None) -> ProvinceSettings:
    """Parse and check the [province] table; ValueError naming the key."""
    raw = dict(raw or {})
    known = {"enabled", "base_url", "username", "password", "ca_file", "inbound_token",
             "heartbeat_s", "alarm_after_s", "timeout_s", "max_audio_bytes", "policy", "lanes"}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"'province.{sorted(unknown)[0]}' is not a known setting")
    policy = _policy(raw.pop("policy", None))
    s = ProvinceSettings(**raw, policy=policy)
    if not isinstance(s.enabled, bool):
        raise ValueError("'province.enabled' must be true or false")
    for key in ("heartbeat_s", "alarm_after_s", "max_audio_bytes", "lanes"):
        if not isinstance(getattr(s, key), int) or getattr(s, key) <= 0:
            raise ValueError(f"'province.{key}' must be a positive whole number")
    if s.enabled:
        u = urlparse(s.base_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError("'province.base_url' must be an http(s) URL with a host")
        if not s.username or not s.password:
            raise ValueError("'province.username' and 'province.password' are needed when enabled")
        if not s.inbound_token or len(s.inbound_token) < 16:
            raise ValueError("'province.inbound_token' must be at least 16 characters when enabled")
    return s
