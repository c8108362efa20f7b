"""Flask application factory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask

from controller.config import Settings
from controller.config import load as load_settings


def create_app(config: dict | None = None, controller=None) -> Flask:
    """Build the web app around a Controller (created, without messaging, if not given)."""
    from controller.runtime import Controller

    if controller is None:
        settings = load_settings(**(config or {}).get("SETTINGS", {})) if config else load_settings()
        controller = Controller(settings)
    settings: Settings = controller.settings
    import web

    # Explicit paths: Flask's instance-path discovery trips over editable installs.
    app = Flask("web", static_folder=None, root_path=str(Path(web.__file__).parent),
                instance_path=str(controller.data.resolve()))
    app.config.update(
        SECRET_KEY=controller.flask_secret(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.media_base().startswith("https"),
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_CONTENT_LENGTH=60 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        JSON_SORT_KEYS=False,
    )
    if config:
        app.config.update({k: v for k, v in config.items() if k != "SETTINGS"})
    app.extensions["commune_radio"] = controller

    web.register(app)
    if settings.trusted_proxies:
        # Behind a reverse proxy every client has the proxy's address, so the per-address
        # login limit would lock out everyone at once; believe exactly the configured hops.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)
    return app
