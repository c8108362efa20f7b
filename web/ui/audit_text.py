"""Audit events as a clerk reads them: a short action name and a sentence with names, not ids.

The audit trail stores machine words (`broadcast_created`, `announcement=3 priority=normal
speakers=1`) so it stays stable and searchable; this module turns them into Vietnamese at
display time, looking up titles, hamlets and speakers. An action it does not know is shown
as stored, so a new kind of event is never hidden.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from controller.models import AuditEvent, Broadcast, Schedule, Speaker
from controller.web_models import BroadcastRequest
from web.ui.common import localtime
from web.ui.names import KINDS, PRIORITIES, ROLES, _name
from web.ui.targets import hamlets_of, targets_text

ACTIONS = {  # action -> (short name for the filter, sentence)
    "announcement_created": (_l("Announcement created"),
                             _l("%(actor)s created the announcement '%(title)s'.")),
    "draft_submitted": (_l("Sent for approval"),
                        _l("%(actor)s sent the announcement '%(title)s' for approval, for %(targets)s.")),
    "announcement_edited": (_l("Announcement edited"),
                            _l("%(actor)s edited the announcement '%(title)s'; it needs approval again.")),
    "announcement_approved": (_l("Announcement approved"),
                              _l("%(actor)s approved the announcement '%(title)s' for %(targets)s.")),
    "broadcast_created": (_l("Broadcast sent"),
                          _l("%(actor)s broadcast '%(title)s' (%(priority)s) to %(targets)s.")),
    "broadcast_emergency": (_l("Emergency without approval"),
                            _l("%(actor)s broadcast the emergency bulletin '%(title)s' without approval "
                               "to %(targets)s.")),
    "broadcast_cancelled": (_l("Broadcast cancelled"),
                            _l("%(actor)s cancelled the broadcast of '%(title)s'.")),
    "request_cancelled": (_l("Request cancelled"), _l("%(actor)s cancelled a broadcast request.")),
    "schedule_created": (_l("Schedule created"),
                         _l("%(actor)s created a schedule for '%(title)s' (%(kind)s).")),
    "schedule_updated": (_l("Schedule changed"), _l("%(actor)s changed the schedule of '%(title)s'.")),
    "schedule_pause": (_l("Schedule paused"), _l("%(actor)s paused the schedule of '%(title)s'.")),
    "schedule_resume": (_l("Schedule resumed"), _l("%(actor)s resumed the schedule of '%(title)s'.")),
    "schedule_cancel": (_l("Schedule cancelled"), _l("%(actor)s cancelled the schedule of '%(title)s'.")),
    "occurrence_cancelled": (_l("Scheduled broadcast cancelled"),
                             _l("%(actor)s cancelled the broadcast of '%(title)s' due at %(when)s.")),
    "occurrence_missed": (_l("Scheduled broadcast missed"),
                          _l("The broadcast of '%(title)s' due at %(when)s did not play: %(reason)s.")),
    "speaker_volume": (_l("Volume changed"), _l("%(actor)s set the volume of %(speaker)s to %(volume)s.")),
    "speaker_stop": (_l("Speaker stopped"), _l("%(actor)s stopped what %(speaker)s was playing.")),
    "speaker_test_tone": (_l("Test tone"), _l("%(actor)s played a test tone on %(speaker)s.")),
    "speaker_revoked": (_l("Speaker revoked"), _l("%(actor)s revoked the speaker %(speaker)s.")),
    "speaker_moved": (_l("Speaker moved"), _l("%(actor)s moved the speaker %(speaker)s to %(detail)s.")),
    "user_created": (_l("Account created"), _l("%(actor)s created the account %(target)s (%(role)s).")),
    "role_changed": (_l("Role changed"),
                     _l("%(actor)s changed the role of %(target)s from %(old)s to %(new)s.")),
    "user_enabled": (_l("Account enabled"), _l("%(actor)s enabled the account %(target)s.")),
    "user_disabled": (_l("Account disabled"), _l("%(actor)s disabled the account %(target)s.")),
    "password_set": (_l("Password set"), _l("%(actor)s set a new password for %(target)s.")),
    "token_created": (_l("API token created"), _l("%(actor)s created an API token for %(target)s.")),
    "tokens_revoked": (_l("API tokens revoked"), _l("%(actor)s revoked the API tokens of %(target)s.")),
    "login": (_l("Logged in"), _l("%(actor)s logged in.")),
    "login_failed": (_l("Failed login"), _l("Failed login as %(actor)s: %(reason)s.")),
    "login_refused": (_l("Login refused"), _l("Login as %(actor)s refused: %(reason)s.")),
    "account_locked": (_l("Account locked"),
                       _l("The account %(target)s was locked after repeated failed logins.")),
    "account_unlocked": (_l("Account unlocked"), _l("%(actor)s unlocked the account %(target)s.")),
    "abbreviations_replaced": (_l("Abbreviations replaced"),
                               _l("%(actor)s replaced the abbreviation list (%(n)s entries).")),
    "signing_key_rotated": (_l("Signing key staged"),
                            _l("A new signing key %(target)s was staged from the command line.")),
    "signing_key_retired": (_l("Signing key switched"),
                            _l("The signing key %(target)s is now the only one (command line).")),
    "ack_forged": (_l("Forged acknowledgement"),
                   _l("Speaker %(actor)s sent an acknowledgement in another speaker's name; "
                      "it was ignored.")),
    "command_rejected": (_l("Command refused"), _l("Speaker %(actor)s refused a command: %(detail)s.")),
    "logout": (_l("Logged out"), _l("%(actor)s logged out.")),
    "areas_changed": (_l("Hamlets of an account changed"),
                      _l("%(actor)s changed which hamlets the account %(target)s may use.")),
    "request_submitted": (_l("Request sent for approval"),
                          _l("%(actor)s asked for approval of a broadcast or a schedule change.")),
    "live_targets": (_l("Live started"), _l("%(actor)s started speaking live (%(target)s).")),
    "live_ended": (_l("Live ended"), _l("The live session %(target)s ended.")),
    "live_opened": (_l("Live session opened"), _l("%(actor)s opened the live session %(target)s.")),
    "live_stopped": (_l("Live session stopped"), _l("%(actor)s stopped the live session %(target)s.")),
    "relay_opened": (_l("Relay session opened"), _l("%(actor)s opened the relay session %(target)s.")),
    "relay_stopped": (_l("Relay session stopped"), _l("%(actor)s stopped the relay session %(target)s.")),
    "relay_started": (_l("Relay started"), _l("%(actor)s started a relay (%(target)s).")),
    "source_added": (_l("Relay station added"), _l("%(actor)s added a relay station (%(target)s).")),
    "hamlet_area_set": (_l("Hamlet area set"), _l("%(actor)s set where a hamlet is, for warnings.")),
    "alert_feed_failed": (_l("Warning feed failing"), _l("The warning feed %(target)s could not be read.")),
    "alert_feed_recovered": (_l("Warning feed back"), _l("The warning feed %(target)s can be read again.")),
    "alert_refused": (_l("Warning refused"),
                      _l("A warning was refused (%(target)s); see the Warnings page.")),
    "province_bulletin": (_l("Bulletin from the province"),
                          _l("The province sent the bulletin %(target)s.")),
    "province_bulletin_cancelled": (_l("Province bulletin cancelled"),
                                    _l("The province cancelled the bulletin %(target)s.")),
    "province_bulletin_rescheduled": (_l("Province bulletin rescheduled"),
                                      _l("The province changed the times of the bulletin %(target)s.")),
    "update_published": (_l("Agent version published"),
                         _l("%(actor)s published the speaker agent version %(target)s.")),
    "update_target": (_l("Agent version target set"),
                      _l("%(actor)s set which speakers should run agent version %(target)s.")),
    "update_installed": (_l("Agent updated"), _l("Speaker %(actor)s now runs agent version %(target)s.")),
}
# Actions written with a variable ending (alert_<policy action>, relay_<state>, update_<state>):
# one sentence per family, so a new ending is still a sentence and never a raw word.
FAMILIES = {
    "alert_": (_l("Warning handled"), _l("A warning was handled (%(target)s); see the Warnings page.")),
    "relay_": (_l("Relay changed"), _l("The relay %(target)s changed; see the Relays page.")),
    "update_": (_l("Agent update"), _l("Speaker %(actor)s reported on the agent update %(target)s.")),
}
LOGIN_REASONS = {
    "bad password": _l("wrong password"), "unknown user": _l("no such account"),
    "inactive account": _l("the account is disabled"), "account locked": _l("the account is locked"),
    "address locked": _l("too many attempts from this address"),
}
MISSED_REASONS = {"expired": _l("its validity had passed"),
                  "superseded": _l("a later broadcast of the same schedule played instead")}
_DETAIL = re.compile(r"(\w+)=(.*?)(?=\s\w+=|$)")


def _known(action: str) -> tuple | None:
    if action in ACTIONS:
        return ACTIONS[action]
    return next((v for prefix, v in FAMILIES.items() if action.startswith(prefix)), None)


def action_name(action: str) -> str:
    """The short Vietnamese name of an action (the stored word if unknown)."""
    known = _known(action)
    return str(known[0]) if known else action


def describe(s: Session, ev: AuditEvent) -> str:
    """One sentence saying who did what to which announcement, hamlets or speaker."""
    known = _known(ev.action)
    if known is None:
        return " ".join(x for x in (ev.actor, ev.action, ev.target, ev.detail) if x)
    detail = dict(_DETAIL.findall(ev.detail or ""))
    kind, _sep, ident = (ev.target or "").partition(":")
    values = {"actor": _actor(ev.actor), "target": ev.target or "", "detail": ev.detail or "",
              "title": "", "targets": "", "priority": "", "speaker": ident, "when": "", "reason": "",
              "volume": detail.get("volume", ""), "kind": _name(KINDS, detail.get("kind")),
              "role": _name(ROLES, detail.get("role")), "n": (ev.detail or "").split(" ")[0]}
    if kind == "announcement":
        values["title"] = _title_of(s, ident)
        values["targets"] = _request_targets(s, ident) or "—"
    elif kind == "broadcast":
        b = s.get(Broadcast, int(ident)) if ident.isdigit() else None
        if b is not None:
            values["title"] = b.announcement.title
            ids = [d.speaker_id for d in b.deliveries]
            values["targets"] = hamlets_of(s.query(Speaker).filter(Speaker.id.in_(ids)).all())
            values["priority"] = _name(PRIORITIES, b.priority).lower()
    elif kind == "schedule":
        values["title"] = _schedule_title(s, ident)
    elif kind == "occurrence":
        schedule_id, _at, due = ident.partition("@")
        values["title"] = _schedule_title(s, schedule_id)
        values["when"] = _when(due)
        code = (ev.detail or "").split(":")[0]
        values["reason"] = str(MISSED_REASONS.get(code, ev.detail or ""))
    elif kind == "speaker":
        values["speaker"] = _speaker(s, ident)
    if ev.action in ("speaker_revoked", "speaker_moved"):
        values["speaker"] = _speaker(s, ev.target or "")
    if ev.action == "role_changed":
        old, _arrow, new = (ev.detail or "").partition(" -> ")
        values["old"], values["new"] = _name(ROLES, old), _name(ROLES, new)
    if ev.action in ("login_failed", "login_refused"):
        values["reason"] = _login_reason(ev.detail or "")
    return str(known[1]) % values


def _actor(actor: str | None) -> str:
    if actor in (None, "", "system"):
        return _("The system")
    if actor == "cli":
        return _("The command line")
    return actor


def _title_of(s: Session, ident: str) -> str:
    from controller.models import Announcement

    ann = s.get(Announcement, int(ident)) if ident.isdigit() else None
    return ann.title if ann is not None else f"#{ident}"


def _request_targets(s: Session, announcement_id: str) -> str:
    """The hamlets the announcement's requests asked for (what an approver approved)."""
    if not announcement_id.isdigit():
        return ""
    reqs = s.query(BroadcastRequest).filter_by(announcement_id=int(announcement_id)).all()
    texts = sorted({targets_text(s, r.targets) for r in reqs})
    return "; ".join(texts)


def _schedule_title(s: Session, ident: str) -> str:
    sch = s.get(Schedule, int(ident)) if ident.isdigit() else None
    return sch.title if sch is not None else f"#{ident}"  # a relay schedule has no announcement


def _speaker(s: Session, ident: str) -> str:
    spk = s.get(Speaker, ident)
    if spk is None:
        return ident
    return f"{spk.name or spk.id} ({spk.hamlet.name})" if spk.hamlet else (spk.name or spk.id)


def _when(due: str) -> str:
    try:
        at = datetime.fromisoformat(due.rstrip("Z")).replace(tzinfo=UTC)
    except ValueError:
        return due
    return localtime(at, "%H:%M %d/%m/%Y")


def _login_reason(detail: str) -> str:
    head, _sep, tail = detail.partition(" (")
    reason = str(LOGIN_REASONS.get(head, head))
    return f"{reason} ({tail}" if tail else reason
