"""The install guide's config example stays in step with the config code (fails when they drift)."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from speaker_agent import config

DOC = Path(__file__).resolve().parents[2] / "docs" / "agent-install.md"


def doc_example() -> str:
    text = DOC.read_text(encoding="utf-8")
    return re.search(r"```toml\n(.*?)```", text, re.S).group(1)


def test_every_setting_is_documented():
    example = doc_example()
    uncommented = re.sub(r"(?m)^# ", "", example)  # optional keys are shown commented out
    documented = tomllib.loads(uncommented)
    top = [f.name for f in dataclasses.fields(config.AgentConfig) if f.name not in config.SECTIONS]
    assert sorted(k for k in documented if k not in config.SECTIONS) == sorted(top)
    for name, cls in config.SECTIONS.items():
        assert sorted(documented[name]) == sorted(f.name for f in dataclasses.fields(cls)), name


def test_the_documented_example_is_valid():
    cfg = config.parse(tomllib.loads(doc_example().replace(
        '"<base64 Ed25519 public key of the controller>"',
        '"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="')), env={})
    assert cfg.player.backend == "alsa"
