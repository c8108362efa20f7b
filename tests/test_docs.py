"""The README and docs/ stay true to the code: every `commune-radio` / `speaker-agent` command
and flag they show exists, every `make` target exists, every link inside the repository
resolves, and nothing points outside the repository (a reader has only the clone)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import click
import pytest

from controller.cli import main as cli_main
from speaker_agent.__main__ import main as agent_main

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", ROOT / "bench" / "README.md", *(ROOT / "docs").glob("*.md")])
IDS = [str(p.relative_to(ROOT)) for p in DOCS]

# code spans and fenced blocks: where commands are shown
CODE = re.compile(r"```[^\n]*\n(.*?)```|`([^`\n]+)`", re.S)
# a program name (maybe with a path such as .venv/bin/) and what follows it up to a shell separator
COMMAND = re.compile(r"(?:^|(?<=[\s(`$]))(?:[\w./-]*/)?(commune-radio|speaker-agent)(?=[\s`]|$)([^\n|;&)`]*)")


def code_of(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return "\n".join(m.group(1) or m.group(2) for m in CODE.finditer(text))


def commands_in(path: Path) -> list[tuple[str, list[str]]]:
    """(program, tokens) for every command shown in the document's code."""
    found = []
    for line in code_of(path).splitlines():
        line = re.sub(r"\s#.*", "", line)  # shell comments
        line = re.sub(r"\"[^\"]*\"|'[^']*'", "ARG", line)  # quoted arguments
        for m in COMMAND.finditer(line):
            tokens = [t.strip("[]") for t in m.group(2).split()]
            found.append((m.group(1), [t for t in tokens if t]))
    return found


def check_click(tokens: list[str]) -> None:
    """Walk the click command tree along TOKENS; fail on an unknown subcommand or flag."""
    cmd: click.Command = cli_main
    path = ["commune-radio"]
    options = {"--help"} | {o for p in cmd.params for o in getattr(p, "opts", [])}
    for tok in tokens:
        if tok.startswith("-"):
            flag = tok.split("=", 1)[0]
            assert flag in options, f"`{' '.join(path)}` has no option {flag}"
        elif isinstance(cmd, click.Group):
            assert tok in cmd.commands, f"`{' '.join(path)}` has no subcommand {tok!r}"
            cmd = cmd.commands[tok]
            path.append(tok)
            options |= {o for p in cmd.params for o in getattr(p, "opts", [])}
    assert not isinstance(cmd, click.Group) or path == ["commune-radio"], \
        f"`{' '.join(path)}` needs a subcommand"


def agent_options() -> set[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        agent_main(["--help"])
    return set(re.findall(r"(--[\w-]+)", out.getvalue()))


@pytest.mark.parametrize("path", DOCS, ids=IDS)
def test_documented_commands_and_flags_exist(path):
    shown = commands_in(path)
    for program, tokens in shown:
        if program == "commune-radio":
            check_click(tokens)
        else:
            known = agent_options()
            for tok in tokens:
                if tok.startswith("-"):
                    assert tok in known, f"speaker-agent has no option {tok}"


@pytest.mark.parametrize("path", DOCS, ids=IDS)
def test_make_targets_exist(path):
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"(?m)^([\w-]+):", makefile))
    code = re.sub(r"\s#.*", "", code_of(path))  # not in shell comments
    for target in re.findall(r"(?m)^\s*make ([a-z][\w-]*)", code):
        assert target in targets, f"{path.name}: `make {target}` is not a Makefile target"


@pytest.mark.parametrize("path", DOCS, ids=IDS)
def test_nothing_points_outside_the_repository(path):
    text = path.read_text(encoding="utf-8")
    for bad in ("../shared", "/work/", "DESIGN.md"):
        assert bad not in text, f"{path.name} mentions {bad}, which a clone does not have"
    for link in re.findall(r"\]\(([^)#\s]+)", text):
        if not re.match(r"[a-z]+:", link):
            assert (path.parent / link).exists(), f"{path.name} links to missing {link}"
