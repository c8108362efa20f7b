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
}
LOGIN_REASONS = {
    "bad password": _l("wrong password"), "unknown user": _l("no such account"),
    "inactive account": _l("the account is disabled"), "account locked": _l("the account is locked"),
    "address locked": _l("too many attempts from this address"),
}
MISSED_REASONS = {"expired": _l("its validity had passed"),
                  "superseded": _l("a later broadcast of the same schedule played instead")}
_DETAIL = re.compile(r"(\w+)=(.*?)(?=\s\w+=|$)")


def action_name(action: str) -> str:
    """The short Vietnamese name of an action (the stored word if unknown)."""
    return str(ACTIONS[action][0]) if action in ACTIONS else action


def describe(s: Session, ev: AuditEvent) -> str:
    """One sentence saying who did what to which announcement, hamlets or speaker."""
    if ev.action not in ACTIONS:
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
    if ev.action == "speaker_revoked":
        values["speaker"] = _speaker(s, ev.target or "")
    if ev.action == "role_changed":
        old, _arrow, new = (ev.detail or "").partition(" -> ")
        values["old"], values["new"] = _name(ROLES, old), _name(ROLES, new)
    if ev.action in ("login_failed", "login_refused"):
        values["reason"] = _login_reason(ev.detail or "")
    return str(ACTIONS[ev.action][1]) % values


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
    return sch.announcement.title if sch is not None else f"#{ident}"


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
