"""`commune-radio backup` and `commune-radio restore`."""

from __future__ import annotations

from pathlib import Path

import click

from controller import backup
from controller.cli import data_option, main


@main.command("backup")
@data_option
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="archive to write (default: a dated file in the backup folder, pruned to backup_keep)")
def backup_cmd(settings, out):
    """Back up the database, audio, keys and config into one archive (safe while running)."""
    from controller.backup_runner import BackupRunner

    try:
        info = backup.create(settings, Path(out)) if out else BackupRunner(settings).run()
    except (backup.BackupError, OSError) as exc:
        raise click.ClickException(f"backup failed, nothing was written: {exc}") from None
    click.echo(f"backup written: {info.path} ({info.bytes} bytes, {info.files} files)")


@main.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--data", "data_dir", type=click.Path(file_okay=False), required=True,
              help="data directory to restore into (must be empty unless --force)")
@click.option("--force", is_flag=True, help="restore into a non-empty folder or database")
@click.option("--database-url", default="", help="PostgreSQL URL, for a backup of a PostgreSQL controller")
def restore_cmd(archive, data_dir, force, database_url):
    """Check every file of a backup against its manifest, then restore it into a data directory."""
    try:
        manifest = backup.restore(Path(archive), Path(data_dir), force=force,
                                  database_url=database_url)
    except backup.BackupError as exc:
        raise click.ClickException(f"restore refused: {exc}") from None
    click.echo(f"restored {len(manifest['files'])} files from a backup of {manifest['created_at']} "
               f"into {Path(data_dir).resolve()}")
