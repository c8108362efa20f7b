"""`commune-radio keys …`: show, rotate and retire the command-signing keys."""

from __future__ import annotations

from pathlib import Path

import click

from controller.cli import controller_for, data_option, main


@main.group()
def keys():
    """Command-signing keys: show, rotate, retire."""


def _update_agent_configs(settings, ctl, files) -> None:
    from controller import agent_config

    paths = [Path(f) for f in files] or sorted((Path(settings.data_dir) / "agents").glob("*.toml"))
    for path in paths:
        ok = agent_config.set_public_keys(path, ctl.keys.public_keys_text())
        click.echo(f"{'updated' if ok else 'NOT updated (no public_keys line)'}: {path}")


agent_config_option = click.option(
    "--agent-config", "files", multiple=True, type=click.Path(dir_okay=False, exists=True),
    help="agent config to update (default: DATA/agents/*.toml)")


@keys.command("show")
@data_option
def keys_show(settings):
    """Print the public keys agents must trust (active first)."""
    ctl = controller_for(settings)
    for text in ctl.keys.public_keys_text():
        click.echo(text)


@keys.command("rotate")
@data_option
@agent_config_option
def keys_rotate(settings, files):
    """Stage a new signing key and give agents both keys; `keys retire` then switches to it."""
    from controller.services import audit

    ctl = controller_for(settings)
    kid = ctl.keys.rotate()
    with ctl.db.session() as s:
        audit.record(s, "signing_key_rotated", actor="cli", target=kid)
    _update_agent_configs(settings, ctl, files)
    click.echo(f"staged signing key {kid}; commands are still signed by the current key.")
    click.echo("give every agent these keys, restart it, then run `keys retire`:")
    for text in ctl.keys.public_keys_text():
        click.echo(text)


@keys.command("retire")
@data_option
@agent_config_option
def keys_retire(settings, files):
    """Sign with the staged key from now on and forget the old one (agents then refuse it)."""
    from controller.services import audit
    from protocol import signing

    ctl = controller_for(settings)
    if not ctl.keys.retire():
        raise click.ClickException("no staged key: run `keys rotate` first")
    kid = signing.key_id(ctl.keys.public_key)
    with ctl.db.session() as s:
        audit.record(s, "signing_key_retired", actor="cli", target=kid)
    _update_agent_configs(settings, ctl, files)
    click.echo(f"now signing with {kid}; the old key is gone. Agents should trust only:")
    for text in ctl.keys.public_keys_text():
        click.echo(text)
