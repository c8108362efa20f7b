"""The Vietnamese web page, one module per area; they all hang on the `ui` blueprint."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

bp = Blueprint("ui", __name__, static_folder=str(Path(__file__).parent.parent / "static"),
               static_url_path="/static")

# Imported for their routes (they register on `bp`).
from web.ui import (  # noqa: E402, F401
               agent_updates,
               alerts,
               approvals,
               audit_log,
               backups,
               calendar,
               compose,
               fleet,
               home,
               live,
               logs,
               province,
               relay_schedules,
               relays,
               reports,
               session,
               stream_logs,
               users,
)
from web.ui.names import context as _names_context  # noqa: E402

# Globals, not a context processor: macros imported without context see globals only.
bp.record_once(lambda state: state.app.jinja_env.globals.update(_names_context()))
