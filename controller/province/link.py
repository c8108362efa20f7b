"""The link as one part of the running controller: settings, mapping, sender, page status."""

from __future__ import annotations

from controller.province import mapping as mapping_file
from controller.province.sender import Sender
from controller.province.settings import ProvinceSettings, province_settings


class ProvinceLink:
    """Holds what the web views and the sender share; built only when the link is enabled."""

    def __init__(self, ctx, settings: ProvinceSettings):
        self.ctx = ctx
        self.settings = settings
        self.mapping = mapping_file.load(ctx.data)
        self.sender = Sender(ctx, settings, self.mapping)

    def start(self) -> None:
        """Start sending."""
        self.sender.start()

    def stop(self) -> None:
        """Stop sending."""
        self.sender.stop()

    def status(self) -> dict:
        """Link state for the page."""
        return self.sender.status()


def configure(ctx) -> None:
    """Turn the link on for this controller when [province] enabled: mark its DB sessions."""
    settings = province_settings(ctx.settings.province)
    if not settings.enabled:
        return
    ctx.province = ProvinceLink(ctx, settings)
    # The outbox hooks look at the session's info: one lookup, and nothing at all when off.
    ctx.db.Session.configure(info={"province_link": True})
