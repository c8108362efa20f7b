"""What airs by itself: the commune's table from CAP severity × urgency (and msgType/status) to an action.

Rules are read from `[[alerts.policy]]` in the data directory's config.toml, in order; the
first rule that matches decides. Nothing matching means a draft for an approver, which is the
safe side: a person decides. Whatever the table says, an alert whose status is not Actual never
airs (Test is logged and shown as a test), and an alert with no Vietnamese text never airs on
its own (it becomes a draft for someone to translate).
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
ACTIONS = ("emergency", "priority", "draft", "ignore")
"""Air at once as an emergency; air at priority level; a draft for an approver; do nothing."""
ACTION_NAMES_VI = {
    "emergency": "Phát ngay (khẩn cấp)", "priority": "Phát (ưu tiên)",
    "draft": "Bản nháp chờ duyệt", "ignore": "Bỏ qua",
}


class PolicyError(ValueError):
    """A policy rule in the config that cannot be used; the message names the rule."""


@dataclass(frozen=True)
class Rule:
    """One row of the table: which alerts it covers and what to do with them."""

    action: str
    severity: frozenset[str] = frozenset(SEVERITIES)
    urgency: frozenset[str] = frozenset(URGENCIES)
    msg_type: frozenset[str] = frozenset(("Alert", "Update"))

    def matches(self, severity: str, urgency: str, msg_type: str) -> bool:
        """Whether this rule covers the alert."""
        return severity in self.severity and urgency in self.urgency and msg_type in self.msg_type


DEFAULT_RULES = (
    Rule("emergency", frozenset(("Extreme", "Severe")), frozenset(("Immediate",))),
)
DEFAULT_ACTION = "draft"


def _values(raw, allowed: tuple[str, ...], key: str, index: int) -> frozenset[str]:
    items = [raw] if isinstance(raw, str) else list(raw)
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise PolicyError(f"alerts.policy[{index}].{key}: {bad[:1] or 'empty'} is not one of "
                          f"{', '.join(allowed)}")
    return frozenset(items)


def rules_from_config(raw) -> tuple[Rule, ...]:
    """Rules from `[[alerts.policy]]` (DEFAULT_RULES when absent); PolicyError naming a bad one."""
    if raw is None:
        return DEFAULT_RULES
    if not isinstance(raw, list):
        raise PolicyError("alerts.policy must be a list of tables ([[alerts.policy]])")
    rules = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("action") not in ACTIONS:
            raise PolicyError(f"alerts.policy[{i}].action must be one of {', '.join(ACTIONS)}")
        rules.append(Rule(
            action=item["action"],
            severity=_values(item.get("severity", SEVERITIES), SEVERITIES, "severity", i),
            urgency=_values(item.get("urgency", URGENCIES), URGENCIES, "urgency", i),
            msg_type=_values(item.get("msg_type", ("Alert", "Update")), MSG_TYPES, "msg_type", i),
        ))
    return tuple(rules)


def decide(rules: tuple[Rule, ...], severity: str, urgency: str, msg_type: str = "Alert") -> str:
    """The action for an Actual alert with Vietnamese text: the first matching rule's, else draft."""
    for rule in rules:
        if rule.matches(severity, urgency, msg_type):
            return rule.action
    return DEFAULT_ACTION


def table(rules: tuple[Rule, ...], msg_type: str = "Alert") -> list[tuple[str, list[str]]]:
    """The whole grid for the page: per severity, the action for each urgency."""
    return [(sev, [decide(rules, sev, urg, msg_type) for urg in URGENCIES]) for sev in SEVERITIES]
