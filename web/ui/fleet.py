"""Fleet: hamlets and speakers with presence, playing now, volume, health flags and a
schematic map; per-speaker volume, test tone and stop; refreshed by polling /fleet.json."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from audio.errors import AudioError
from controller import speech
from controller.models import utcnow
from controller.services import agent_updates, fleet_actions, registry
from controller.services.errors import ServiceError
from web import serializers
from web.auth import roles_required
from web.context import ctl
from web.ui import bp
from web.ui.common import ALL, db_user, localtime, message

MAP_W, MAP_H = 1000, 600
MAP_PAD_X, MAP_PAD_Y = 170, 50  # room for the names under the pins


def snapshot() -> list[dict]:
    """Every active speaker with presence, playing, volume, flags and schematic position."""
    with ctl().db.session() as s:
        speakers = registry.list_speakers(s, user=current_user)
        items = [serializers.speaker(spk, ctl().settings) for spk in speakers]
        last_seen = {spk.id: spk.last_seen for spk in speakers}
    for it in items:
        st = it["state"] or {}
        it["playing"] = st.get("playing")
        it["volume"] = st.get("volume")
        it["last_seen_local"] = localtime(last_seen.get(it["id"]), "%d/%m %H:%M:%S")
    place(items)
    return items


def place(items: list[dict], width: float = MAP_W, height: float = MAP_H,
          pad_x: float = MAP_PAD_X, pad_y: float = MAP_PAD_Y) -> None:
    """Schematic x/y from latitude/longitude scaled into the box, north up (no map tiles)."""
    located = [i for i in items if i["latitude"] is not None and i["longitude"] is not None]
    for i in items:
        i["x"] = i["y"] = None
    if not located:
        return
    lats = [i["latitude"] for i in located]
    lons = [i["longitude"] for i in located]
    span_lat = (max(lats) - min(lats)) or 1e-6
    span_lon = (max(lons) - min(lons)) or 1e-6
    scale = min((width - 2 * pad_x) / span_lon, (height - 2 * pad_y - 40) / span_lat)
    for i in located:
        i["x"] = round(pad_x + (i["longitude"] - min(lons)) * scale, 1)
        i["y"] = round(pad_y + (max(lats) - i["latitude"]) * scale, 1)


@bp.get("/fleet")
@roles_required(*ALL)
def fleet():
    """The fleet page (the table and map are refreshed by static/fleet.js)."""
    items = snapshot()
    hamlets: dict[str, list[dict]] = {}
    for it in items:
        hamlets.setdefault(it["hamlet"], []).append(it)
    with ctl().db.session() as s:
        updates = agent_updates.progress(s)
        releases = agent_updates.releases(s)
    visible = {it["id"] for it in items}  # a user limited to hamlets sees only theirs
    updates["speakers"] = {k: v for k, v in updates["speakers"].items() if k in visible}
    return render_template("fleet.html", hamlets=hamlets, items=items, map_w=MAP_W, map_h=MAP_H,
                           can_act=db_user().role in fleet_actions.ACTION_ROLES, updates=updates,
                           update_state_name=update_state_name, releases=releases,
                           is_admin=db_user().role == "admin", voices=_voices())


def update_state_name(state: str) -> str:
    """An update attempt's state in the clerk's words."""
    return {"sent": _("Sent"), "received": _("Received, waiting for silence"),
            "installed": _("Installed"), "failed": _("Failed"), "rejected": _("Refused by the speaker"),
            "rolled_back": _("Rolled back")}.get(state, state)


def _voices() -> list[dict]:
    """Speech engines with their state and local times, for the 'Voices' card."""
    voices = speech.engine_states(ctl())
    for v in voices:
        v["down_since_local"] = localtime(v["down_since"], "%H:%M %d/%m") if v["down_since"] else ""
        v["retry_at_local"] = localtime(v["retry_at"], "%H:%M") if v["retry_at"] else ""
    return voices


@bp.get("/fleet.json")
@roles_required(*ALL)
def fleet_json():
    """The fleet snapshot for polling."""
    return jsonify(speakers=snapshot(), at=localtime(utcnow(), "%H:%M:%S"))


@bp.post("/fleet/<speaker_id>/<action>")
@roles_required(*fleet_actions.ACTION_ROLES)
def fleet_action(speaker_id: str, action: str):
    """Volume, test tone or stop on one speaker."""
    user = db_user()
    try:
        if action == "volume":
            fleet_actions.set_volume(ctl(), speaker_id, request.form.get("volume", ""), user)
            flash(_("Volume command sent to %(speaker)s.", speaker=speaker_id), "ok")
        elif action == "stop":
            fleet_actions.stop(ctl(), speaker_id, user)
            flash(_("Stop command sent to %(speaker)s.", speaker=speaker_id), "ok")
        elif action == "test-tone":
            bid = fleet_actions.test_tone(ctl(), speaker_id, user)
            flash(_("Test tone sent to %(speaker)s.", speaker=speaker_id), "ok")
            return redirect(url_for("ui.broadcast", broadcast_id=bid))
        else:
            return render_template("error.html", code=404, message=_("This page does not exist.")), 404
    except (ServiceError, AudioError) as exc:
        if getattr(exc, "status", None) in (403, 404):
            raise  # another hamlet's speaker: the 403/404 page
        flash(message(exc.code, str(exc)), "error")
    return redirect(url_for("ui.fleet") + f"#spk-{speaker_id}")
