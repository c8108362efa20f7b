"""The [alerts] table: a mistake names the key, the default policy is the issue's."""

from __future__ import annotations

import pytest

from controller.alerts import policy
from controller.alerts.settings import alert_settings
from controller.config import ConfigError, load


@pytest.mark.parametrize("table, words", [
    ({"feeds": [{"name": "a b", "url": "http://127.0.0.1/x"}]}, "alerts.feeds[0].name"),
    ({"feeds": [{"name": "a", "url": "ftp://127.0.0.1/x"}]}, "alerts.feeds[0].url"),
    ({"feeds": [{"name": "a", "url": "http://127.0.0.1/x", "require_signature": True}]},
     "alerts.feeds[0].certificate"),
    ({"policy": [{"action": "shout"}]}, "alerts.policy[0].action"),
    ({"policy": [{"action": "ignore", "severity": ["Huge"]}]}, "alerts.policy[0].severity"),
    ({"repeat_minutes": -1}, "alerts.repeat_minutes"),
    ({"colour": "red"}, "alerts.colour"),
])
def test_a_bad_alerts_table_stops_the_start_and_names_the_key(tmp_path, table, words):
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        load(tmp_path, alerts=table)


def test_the_default_policy_airs_only_extreme_or_severe_and_immediate():
    rules = alert_settings({}).rules
    grid = dict(policy.table(rules))
    assert grid["Extreme"][0] == grid["Severe"][0] == "emergency"
    assert {a for sev, row in grid.items() for a in row} == {"emergency", "draft"}
    assert policy.decide(rules, "Severe", "Expected") == "draft"
    assert policy.decide(rules, "Severe", "Immediate", "Cancel") == "draft"
