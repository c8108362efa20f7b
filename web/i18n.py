"""Flask-Babel: Vietnamese by default, English on request (a session choice, not the browser's)."""

from __future__ import annotations

from flask import Flask, session
from flask_babel import Babel

LANGUAGES = ("vi", "en")
DEFAULT = "vi"
babel = Babel()


def select_locale() -> str:
    """The language the user picked, else Vietnamese.

    Accept-Language is ignored on purpose: staff phones are often set to English while
    the commune works in Vietnamese, and the page should not switch under them.
    """
    lang = session.get("lang")
    return lang if lang in LANGUAGES else DEFAULT


def init(app: Flask) -> None:
    """Attach Babel with the packaged catalogs (web/translations)."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    babel.init_app(app, locale_selector=select_locale)
