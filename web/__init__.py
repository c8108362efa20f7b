"""Web layer: the Vietnamese UI and the JSON API. Views are thin and call controller services."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach extensions and blueprints to the app."""
    from web import (
        api,
        api_alerts,
        api_live,
        api_relays,
        api_schedules,
        auth,
        i18n,
        icecast_auth,
        media,
        ops,
        security,
        ui,
        updates,
    )

    auth.init(app)
    i18n.init(app)
    security.init(app, app.extensions["commune_radio"].settings.cookie_secure)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_schedules.bp)
    app.register_blueprint(api_live.bp)
    app.register_blueprint(api_alerts.bp)
    app.register_blueprint(api_relays.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(updates.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(icecast_auth.bp)
    from web import province_api

    app.register_blueprint(province_api.bp)
    app.register_blueprint(ui.bp)
