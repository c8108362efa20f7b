"""Access to the running controller from a request."""

from __future__ import annotations

from flask import current_app


def ctl():
    """The Controller this app serves."""
    return current_app.extensions["commune_radio"]
