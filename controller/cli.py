"""`commune-radio` command line. Every subcommand accepts --data DIR."""

from __future__ import annotations

import functools
import logging
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from controller.config import ENV_DATA, ConfigError
from controller.config import load as load_settings


def data_option(f):
    """Add --data DIR (default $COMMUNE_RADIO_DATA, else ./instance) to a command."""

    @click.option("--data", "data_dir", type=click.Path(file_okay=False), default=None,
                  help=f"data directory (default ${ENV_DATA} or ./instance)")
    @functools.wraps(f)
    def wrapper(*args, data_dir=None, **kwargs):
        try:
            settings = load_settings(data_dir)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        return f(settings, *args, **kwargs)

    return wrapper


def controller_for(settings):
    """A Controller without messaging (for administrative commands)."""
    from controller.runtime import Controller

    return Controller(settings)


@contextmanager
def service_session(ctl):
    """A DB session whose service errors become clean CLI errors (the message, exit 1)."""
    from controller.services.errors import ServiceError

    try:
        with ctl.db.session() as s:
            yield s
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="debug logging")
def main(verbose: bool) -> None:
    """commune-radio: the commune's smart loudspeaker controller."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        # Alembic 1.18 logs every plugin it sets up at INFO on each start; keep the
        # "Running upgrade" lines, drop the noise.
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@main.command()
@data_option
@click.option("--host", default=None, help="web address to listen on")
@click.option("--port", type=int, default=None, help="web port")
def serve(settings, host, port):
    """Run the controller: broker (managed unless configured), scheduler, web."""
    from controller.runtime import AlreadyRunning
    from controller.server import serve as run

    try:
        run(settings, host, port)
    except AlreadyRunning as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@data_option
@click.option("--speakers", "n", type=click.IntRange(1, 200), default=9, show_default=True,
              help="simulated speakers, one per hamlet")
@click.option("--port", type=int, default=8080, show_default=True, help="web port")
@click.option("--province", is_flag=True, help="also run a mock province on loopback and link to it")
def demo(settings, n, port, province):
    """Controller, managed broker and N simulated speaker agents with file sinks."""
    from controller.demo import run_demo
    from controller.runtime import AlreadyRunning

    try:
        run_demo(settings, n, port, province=province)
    except AlreadyRunning as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def speaker():
    """Manage speakers."""


@main.group()
def hamlet():
    """Where hamlets are, for public warnings (CAP alerts)."""


@hamlet.command("area")
@data_option
@click.argument("name")
@click.option("--polygon", "polygon_file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="GeoJSON file with the hamlet's polygon (lon, lat)")
@click.option("--geocodes", default="", help="codes separated by commas, e.g. '89,886'")
def hamlet_area(settings, name, polygon_file, geocodes):
    """Set a hamlet's polygon and geocodes (replacing what was there)."""
    from controller.alerts import hamlet_areas
    from controller.services import registry

    ctl = controller_for(settings)
    with service_session(ctl) as s:
        h = next((x for x in registry.list_hamlets(s) if x.name == name), None)
        if h is None:
            raise click.ClickException(f"unknown hamlet {name!r}")
        polygon = Path(polygon_file).read_text(encoding="utf-8") if polygon_file else None
        hamlet_areas.set_area(s, h.id, polygon=polygon, geocodes=geocodes, actor="cli")
    click.echo(f"area of {name} saved")


@speaker.command("add")
@data_option
@click.argument("speaker_id")
@click.option("--hamlet", required=True, help="hamlet (ấp) name; created if new")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="agent config file to write (default DATA/agents/ID.toml)")
@click.option("--broker-host", default=None, help="broker address the agent should use")
@click.option("--agent-data", default=None,
              help="agent's data directory on the Pi (default /var/lib/speaker-agent/ID)")
@click.option("--player", type=click.Choice(["alsa", "file"]), default="alsa", show_default=True)
@click.option("--sink-dir", default=None, help="file player: where decoded WAVs go")
def speaker_add(settings, speaker_id, hamlet, out, broker_host, agent_data, player, sink_dir):
    """Register a speaker and write its agent config (with its secret, mode 0600)."""
    from controller import agent_config
    from controller.services import registry

    ctl = controller_for(settings)
    with service_session(ctl) as s:
        registry.add_speaker(s, speaker_id, hamlet)
        secret = registry.reset_secret(s, speaker_id)
    ctl.sync_broker_auth()
    path = Path(out or settings.data_dir / "agents" / f"{speaker_id}.toml")
    addr = ctl.broker_address()
    text = agent_config.render(
        speaker_id=speaker_id, password=secret, host=broker_host or settings.agent_broker_host,
        port=addr.port, prefix=settings.topic_prefix, public_keys=ctl.keys.public_keys_text(),
        data_dir=agent_data or f"/var/lib/speaker-agent/{speaker_id}", backend=player,
        sink_dir=sink_dir, relay_mock=player == "file", relay_enabled=player == "alsa")
    agent_config.write(path, text)
    click.echo(f"speaker {speaker_id} added to {hamlet}; agent config written to {path}")


@speaker.command("move")
@data_option
@click.argument("speaker_id")
@click.option("--hamlet", required=True, help="the hamlet (ấp) it now belongs to")
def speaker_move(settings, speaker_id, hamlet):
    """Move a speaker to another hamlet; its agent follows by itself (no change on the Pi)."""
    from controller.services import audit, registry

    ctl = controller_for(settings)
    with service_session(ctl) as s:
        registry.move_speaker(s, speaker_id, hamlet)
        audit.record(s, "speaker_moved", actor="cli", target=speaker_id, detail=hamlet)
    ctl.sync_broker_auth()  # its new hamlet's group topic becomes readable, the old one not
    click.echo(f"speaker {speaker_id} moved to {hamlet}")
    if settings.broker_url:
        click.echo("external broker: run broker-config --out and reload it yourself")


@speaker.command("revoke")
@data_option
@click.argument("speaker_id")
def speaker_revoke(settings, speaker_id):
    """Revoke a speaker: its broker account goes at once and a running broker drops it."""
    from controller.services import audit, registry

    ctl = controller_for(settings)
    with service_session(ctl) as s:
        registry.revoke_speaker(s, speaker_id)
        audit.record(s, "speaker_revoked", actor="cli", target=speaker_id)
    ctl.sync_broker_auth()  # rewrites passwd/acl and SIGHUPs the managed broker
    click.echo(f"speaker {speaker_id} revoked; its broker account is gone")
    if settings.broker_url:
        click.echo("external broker: run broker-config --out and reload it yourself")


@main.group()
def tts():
    """Speech tools."""


@tts.command("normalize")
@click.option("--dialect", type=click.Choice(["south", "north"]), default=None)
@click.argument("text")
def tts_normalize(dialect, text):
    """Print the spoken form of TEXT, and nothing else."""
    from audio.normalize import normalize

    settings = load_settings()
    click.echo(normalize(text, dialect=dialect or settings.dialect))


@tts.command("render")
@data_option
@click.argument("text")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
def tts_render(settings, text, output):
    """Speak and master TEXT into an MP3 file."""
    import shutil

    from controller import speech

    ctl = controller_for(settings)
    rendered = speech.render_text(ctl, text)
    shutil.copyfile(rendered.mp3_path, output)
    click.echo(f"{output}: {rendered.duration_ms / 1000:.1f} s, engine {rendered.engine}")


@main.command("broker-config")
@data_option
@click.option("--out", type=click.Path(file_okay=False), required=True)
@click.option("--port", type=int, default=1883)
@click.option("--bind", default="0.0.0.0")  # noqa: S104 - operators choose
@click.option("--run-as", default=None,
              help="user Mosquitto runs as (it must be able to read the 0600 files)")
def broker_config(settings, out, port, bind, run_as):
    """Write mosquitto.conf, passwd and acl for a broker you run yourself."""
    from controller import broker_files

    ctl = controller_for(settings)
    accounts, acl = ctl.auth_files()
    d = Path(out)
    (d / "persist").mkdir(parents=True, exist_ok=True)
    broker_files.write_private(d / "passwd", broker_files.render_password_file(accounts))
    broker_files.write_private(d / "acl", acl)
    broker_files.write_private(d / "mosquitto.conf", broker_files.render_config(
        port=port, files_dir=d, run_as_user=run_as, bind=bind, tls=ctl.broker_tls()))
    click.echo(f"wrote {d}/mosquitto.conf, passwd, acl")
    if not run_as:  # Mosquitto started as root drops to user `mosquitto` (DESIGN.md)
        click.echo(f"Mosquitto must own these files: chown -R mosquitto: {d}")
    click.echo(f"controller broker password is in {settings.data_dir}/keys (use broker_url)")


@main.group()
def db():
    """Database maintenance."""


@db.command("upgrade")
@data_option
def db_upgrade(settings):
    """Apply migrations."""
    controller_for(settings)
    click.echo("database is up to date")


# Registered last: these modules add commands to `main` and import it from here.
from controller import cli_backup, cli_keys, cli_updates, cli_users  # noqa: E402, F401, I001

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
