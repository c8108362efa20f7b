"""`commune-radio update publish|target|status`: agent updates over the air, staged by hamlet."""

from __future__ import annotations

from pathlib import Path

import click

from controller.cli import controller_for, data_option, main
from controller.services import agent_updates
from controller.services.agent_updates import UpdateError


def _scope_options(f):
    f = click.option("--all", "everyone", is_flag=True, help="every speaker of the commune")(f)
    f = click.option("--speaker", "speakers", multiple=True, help="one speaker id (repeatable)")(f)
    return click.option("--hamlet", "hamlets", multiple=True, help="a hamlet name (repeatable)")(f)


@main.group()
def update():
    """Agent updates over the air: publish a wheel, then roll it out hamlet by hamlet."""


@update.command("publish")
@data_option
@click.argument("wheel", type=click.Path(exists=True, dir_okay=False))
@_scope_options
def publish_cmd(settings, wheel, hamlets, speakers, everyone):
    """Store a commune-radio wheel (base dependencies only) and target it at hamlets or speakers."""
    ctl = controller_for(settings)
    try:
        with ctl.db.session() as s:
            rel = agent_updates.publish(s, settings.data_dir, Path(wheel), actor="cli")
            version, sha = rel.version, rel.sha256
            scopes = (agent_updates.set_target(s, version, hamlets=hamlets, speakers=speakers,
                                               everyone=everyone, actor="cli")
                      if hamlets or speakers or everyone else [])
    except UpdateError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"published {version} (sha256 {sha})")
    click.echo(f"target {version} for: {', '.join(scopes)}" if scopes
               else "no target yet: run `commune-radio update target VERSION --hamlet NAME`")


@update.command("target")
@data_option
@click.argument("version")
@_scope_options
def target_cmd(settings, version, hamlets, speakers, everyone):
    """Point hamlets, speakers or everyone at a published version (widen a rollout, or retry)."""
    ctl = controller_for(settings)
    try:
        with ctl.db.session() as s:
            scopes = agent_updates.set_target(s, version, hamlets=hamlets, speakers=speakers,
                                              everyone=everyone, actor="cli")
    except UpdateError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"target {version} for: {', '.join(scopes)}")


@update.command("status")
@data_option
def status_cmd(settings):
    """Each speaker's version, target and last update attempt."""
    ctl = controller_for(settings)
    with ctl.db.session() as s:
        p = agent_updates.progress(s)
    for sid, row in sorted(p["speakers"].items()):
        click.echo(f"{sid:20} {row['version'] or '?':12} target {row['target'] or '-':12} "
                   f"{row['state'] or ''} {row['detail'] or ''}".rstrip())
    click.echo(f"{p['done']}/{p['targeted']} at target, {p['failed']} failed")
