"""A controller served over real HTTP in this process, streaming to a given Icecast.

For live tests and the live-delay bench: waitress + the Flask app on a free loopback port,
the live watchdog running. Without `broker_url` there is no broker (speakers are not needed
to hear a mount); with one the whole controller starts, so real agents get the sessions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LiveServer:
    """What a test needs: the base URL, the controller and an approver's token."""

    base: str
    controller: object
    token: str
    _server: object

    def stop(self) -> None:
        """Stop serving and close the controller's live encoders."""
        self._server.close()
        self.controller.stop()


def serve(tmp: Path, icecast, hamlets: dict[str, list[str]], users: dict[str, str],
          db_url: str | None = None, **settings) -> LiveServer:
    """Start it; `hamlets` {name: [speaker ids]}, `users` {name: role} (password 'mat-khau-thu-nghiem')."""
    from waitress import create_server

    from controller.app import create_app
    from controller.config import load
    from controller.runtime import Controller
    from controller.services import live, registry
    from controller.services import users as accounts

    cfg = load(tmp / "data", database_url=db_url or f"sqlite:///{tmp / 'controller.db'}",
               run_scheduler=False, tts_engines="espeak",
               stream_url=f"http://127.0.0.1:{icecast.port}",
               stream_source_password=icecast.source_password, **settings)
    ctl = Controller(cfg)
    token = ""
    with ctl.db.session() as s:
        for hamlet, speakers in hamlets.items():
            for sid in speakers:
                registry.add_speaker(s, sid, hamlet)
        for name, role in users.items():
            accounts.add_user(s, name, role, "mat-khau-thu-nghiem")
            if role in live.LIVE_ROLES and not token:
                token = accounts.new_token(s, name)
    server = create_server(create_app(controller=ctl), host="127.0.0.1", port=0, threads=6)
    if cfg.broker_url:
        ctl.start(web_port=server.effective_port)  # bus, dispatcher, live watchdog, relays
    else:
        live.watch(ctl).start(interval_s=0.25)
    threading.Thread(target=server.run, daemon=True).start()
    return LiveServer(f"http://127.0.0.1:{server.effective_port}", ctl, token, server)
