"""One CAP document in, one line in the alert log out, and whatever the policy says in between.

Order of checks (each ends in a logged refusal or decision, never an exception to the caller):
parse and schema → signature (per feed) → polygons → duplicate → status/msgType → expiry →
Cancel/Update references → hamlets → Vietnamese text → policy. Speech is rendered outside any
transaction (it may take seconds); the announcement, the first broadcast, the repeat schedule
and the log line are then written in one transaction, so nothing half-written is stored.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from controller import speech
from controller.alerts import areas, cap, lifecycle, repeats, signatures
from controller.alerts.models import AlertRecord
from controller.alerts.settings import AlertSettings, Feed, alert_settings
from controller.alerts.speech_text import spoken_text, title
from controller.models import Announcement, User, utcnow
from controller.services import announcements, audit, broadcasts, registry
from controller.services.errors import ServiceError
from controller.web_models import BroadcastRequest

log = logging.getLogger(__name__)
NOT_AIRED_STATUSES = {"Exercise": "an exercise", "System": "a system message", "Draft": "a draft"}


@dataclass
class Verdict:
    """What was decided about one alert, before anything is written."""

    action: str
    reason: str = ""
    alert: cap.Alert | None = None
    info: cap.Info | None = None
    hamlets: list = field(default_factory=list)
    refers_to: list[int] = field(default_factory=list)


def receive(ctx, data: bytes, *, source: str, user: User | None = None, feed: Feed | None = None,
            now: datetime | None = None) -> int:
    """Take one CAP document from a source; returns the id of its alert-log line."""
    now = now or utcnow()
    conf = alert_settings(ctx.settings.alerts)
    verdict = judge(ctx, conf, data, feed, now)
    actor = user.username if user else source
    if verdict.action in ("emergency", "priority", "draft"):
        return _act(ctx, conf, verdict, data, source, actor, now)
    with ctx.db.session() as s:
        if verdict.action == "cancel":
            stops = lifecycle.stop_alerts(s, verdict.refers_to, now, "cancelled", actor)
        rec = _record(s, verdict, data, source, now)
        rec_id = rec.id
        audit.record(s, f"alert_{verdict.action}", actor=actor, target=f"alert:{rec_id}",
                     detail=_detail(verdict))
    if verdict.action == "cancel":
        lifecycle.send_stops(ctx, stops, now)
    log.info("alert %s from %s: %s %s", rec_id, source, verdict.action, verdict.reason)
    return rec_id


def judge(ctx, conf: AlertSettings, data: bytes, feed: Feed | None, now: datetime) -> Verdict:
    """Every check that needs no writing, in order; the first that decides wins."""
    try:
        alert = cap.parse(data, max_bytes=conf.max_bytes)
    except cap.CapRefused as exc:
        return Verdict("refused", str(exc))
    has_signature, alert = alert.signed, _signed(alert, False)  # signed means verified here
    if feed is not None and feed.certificate:
        try:
            signatures.verify(data, signatures.load_certificate(feed.certificate, ctx.data))
            alert = _signed(alert, True)
        except signatures.BadSignature as exc:
            if feed.require_signature or has_signature:
                return Verdict("refused", str(exc), alert)
        except OSError as exc:
            return Verdict("refused", f"the certificate of feed {feed.name} cannot be read: {exc}", alert)
    try:
        for info in alert.infos:
            areas.check_areas(info.areas)
    except cap.CapRefused as exc:
        return Verdict("refused", str(exc), alert)
    info = alert.main_info()
    with ctx.db.session() as s:
        if _is_duplicate(s, alert):
            return Verdict("duplicate", "same identifier, sender and sent as an alert already received",
                           alert, info)
        if alert.status == "Test":
            return Verdict("test", "status Test: logged, never aired", alert, info)
        if alert.status in NOT_AIRED_STATUSES:
            return Verdict("ignored", f"status {alert.status} ({NOT_AIRED_STATUSES[alert.status]}): "
                           "never aired", alert, info)
        if alert.msg_type in ("Ack", "Error"):
            return Verdict("ignored", f"msgType {alert.msg_type}: nothing to air", alert, info)
        if alert.expires is not None and alert.expires <= now:
            return Verdict("refused", f"expired at {alert.expires.isoformat()}", alert, info)
        refs = []
        if alert.msg_type in ("Update", "Cancel"):
            refs = lifecycle.referenced(s, alert.references)
            if not refs:
                return Verdict("unknown_ref", f"{alert.msg_type} for an alert never received here: "
                               f"{_refs_text(alert)}", alert, info)
            if alert.msg_type == "Cancel":
                return Verdict("cancel", f"cancels alert(s) {', '.join(map(str, refs))}", alert, info,
                               refers_to=refs)
        hamlets = match_hamlets(s, conf, alert)
    if not hamlets:
        return Verdict("not_for_us", "no area of the alert covers a hamlet of this commune",
                       alert, info, refers_to=refs)
    vi = alert.vietnamese_info()
    if vi is None:
        return Verdict("draft", "no Vietnamese text (language vi): a draft waits for a translation",
                       alert, info, hamlets, refs)
    action = _policy_action(conf, alert, vi, feed)
    reason = f"policy: {vi.severity} × {vi.urgency} ({alert.msg_type}) → {action}"
    if feed is not None and conf.unsigned_feeds_draft and not alert.signed and action != "ignore":
        action, reason = "draft", "unsigned feed: every alert becomes a draft (unsigned_feeds_draft)"
    if action == "ignore":
        return Verdict("ignored", reason, alert, vi, hamlets, refs)
    return Verdict(action, reason, alert, vi, hamlets, refs)


def _signed(alert: cap.Alert, verified: bool) -> cap.Alert:
    from dataclasses import replace

    return replace(alert, signed=verified)


def _policy_action(conf: AlertSettings, alert: cap.Alert, vi: cap.Info, feed: Feed | None) -> str:
    from controller.alerts import policy

    return policy.decide(conf.rules, vi.severity, vi.urgency, alert.msg_type)


def _is_duplicate(s, alert: cap.Alert) -> bool:
    q = sa.select(AlertRecord.id).where(
        AlertRecord.identifier == alert.identifier[:255], AlertRecord.sender == alert.sender[:255],
        AlertRecord.sent == alert.sent, AlertRecord.action.not_in(("refused", "duplicate")))
    return s.scalar(q.limit(1)) is not None


def _refs_text(alert: cap.Alert) -> str:
    return " ".join(f"{r.sender},{r.identifier},{r.sent}" for r in alert.references)[:300] or "(none)"


def match_hamlets(s, conf: AlertSettings, alert: cap.Alert) -> list[areas.HamletShape]:
    """Hamlets concerned by the alert's areas (all <info> blocks)."""
    from controller.alerts.models import HamletArea

    shapes = []
    extra = {a.hamlet_id: a for a in s.scalars(sa.select(HamletArea))}
    for h in registry.list_hamlets(s):
        area = extra.get(h.id)
        points = [(x.latitude, x.longitude) for x in h.speakers
                  if x.revoked_at is None and x.latitude is not None and x.longitude is not None]
        shapes.append(areas.HamletShape(
            id=h.id, name=h.name,
            geometry=areas.hamlet_geometry(area.polygon if area else None, points),
            geocodes=frozenset(str(c) for c in (area.geocodes if area else []))))
    all_areas = [a for info in alert.infos for a in info.areas]
    return areas.match(all_areas, shapes, conf.commune_geocodes)


def _record(s, v: Verdict, data: bytes, source: str, now: datetime, **extra) -> AlertRecord:
    a, info = v.alert, v.info
    rec = AlertRecord(
        received_at=now, source=source[:120], action=v.action, reason=v.reason[:1000] or None,
        raw_sha256=hashlib.sha256(data).hexdigest() if isinstance(data, bytes | bytearray) else None,
        areas=[x.desc for i in (a.infos if a else ()) for x in i.areas][:50],
        matched_hamlets=[{"id": h.id, "name": h.name} for h in v.hamlets],
        refers_to=v.refers_to[0] if v.refers_to else None, state=extra.pop("state", "done"), **extra)
    if a is not None:
        rec.identifier, rec.sender, rec.sent = a.identifier[:255], a.sender[:255], a.sent
        rec.status, rec.msg_type, rec.signed = a.status, a.msg_type, a.signed
        rec.expires_at = a.expires
    if info is not None:
        rec.event, rec.headline = info.event[:255], (info.headline or info.event)[:500]
        rec.language, rec.severity, rec.urgency = info.language[:20], info.severity, info.urgency
    s.add(rec)
    s.flush()
    return rec


def _detail(v: Verdict) -> str:
    a = v.alert
    head = f"{a.sender} {a.identifier} " if a else ""
    return f"{head}{v.reason}"[:1000]


def _act(ctx, conf: AlertSettings, v: Verdict, data: bytes, source: str, actor: str,
         now: datetime) -> int:
    """Render the speech, then write announcement, broadcast/draft, repeats and the log line at once."""
    vi = v.alert.vietnamese_info()
    rendered = None
    if vi is not None:
        try:
            with ctx.db.session() as s:
                abbreviations = announcements.abbreviations(s)
            # An alert that airs at once renders on the emergency worker, within the
            # emergency speech budget (controller/render_pool.py, audio.engines.chain).
            rendered = speech.render_text(ctx, spoken_text(vi, v.action, ctx.settings.max_text_chars),
                                          abbreviations, urgent=v.action == "emergency")
        except Exception as exc:  # any engine failure: the alert is logged, not lost
            log.exception("speech for alert %s failed", v.alert.identifier)
            v = Verdict("failed", f"speech could not be made: {exc}"[:500], v.alert, v.info, v.hamlets,
                        v.refers_to)
    with ctx.db.session() as s:
        # An Update: the alert it replaces stops repeating.
        stops = lifecycle.stop_alerts(s, v.refers_to, now, "replaced", actor) if v.refers_to else []
        if v.action == "failed":
            rec = _record(s, v, data, source, now)
        elif v.action == "draft":
            rec = _draft(s, ctx, v, data, source, rendered, now)
        else:
            rec = _air(s, ctx, conf, v, data, source, rendered, now)
        rec_id = rec.id
        audit.record(s, f"alert_{v.action}", actor=actor, target=f"alert:{rec_id}", detail=_detail(v))
    lifecycle.send_stops(ctx, stops, now)
    if v.action in ("emergency", "priority"):
        ctx.kick()
        repeats.refresh(ctx)
    log.info("alert %s from %s: %s %s", rec_id, source, v.action, v.reason)
    return rec_id


def _targets(v: Verdict) -> dict:
    return {"hamlets": [h.id for h in v.hamlets]}


def _draft(s, ctx, v: Verdict, data: bytes, source: str, rendered, now: datetime) -> AlertRecord:
    info = v.info
    if rendered is not None:
        ann = announcements.create(s, ctx, title=title(info), text=spoken_text(info, "draft"),
                                   rendered=rendered, source="tts", user=None, approved=False)
    else:  # English only: a person translates; no audio is made from the foreign text
        ann = Announcement(title=("Cần dịch: " + title(info))[:200], status="draft",
                           text="\n".join(x for x in (info.headline, info.description,
                                                      info.instruction) if x))
        s.add(ann)
        s.flush()
    s.add(BroadcastRequest(announcement=ann, targets=_targets(v), priority="priority", when="now"))
    return _record(s, v, data, source, now, announcement_id=ann.id, state="done")


def _air(s, ctx, conf: AlertSettings, v: Verdict, data: bytes, source: str, rendered,
         now: datetime) -> AlertRecord:
    info = v.info
    ann = announcements.create(s, ctx, title=title(info), text=spoken_text(info, v.action),
                               rendered=rendered, source="tts", user=None, approved=True)
    speakers = registry.resolve_targets(s, _targets(v))
    emergency = v.action == "emergency"
    try:
        # The same write as a leader's emergency send (approvals.send_emergency): the policy
        # table stands in for the leader, and the broadcast is marked as an override.
        b = broadcasts.create(s, announcement=ann, speakers=speakers,
                              priority="emergency" if emergency else "priority", user=None,
                              ttl_s=ctx.settings.command_ttl_s, emergency_override=emergency, now=now)
    except ServiceError as exc:
        v.action, v.reason = "failed", f"the broadcast could not be written: {exc.message}"
        return _record(s, v, data, source, now, announcement_id=ann.id)
    schedule_id = repeats.add(s, ctx, conf, v.alert, info, ann.id, _targets(v),
                              "emergency" if emergency else "priority", now)
    return _record(s, v, data, source, now, announcement_id=ann.id, broadcast_ids=[b.id],
                   schedule_id=schedule_id, state="active" if schedule_id else "done")


def log_refusal(ctx, source: str, code: str, reason: str, *, actor: str | None = None,
                now: datetime | None = None) -> int:
    """Log a document refused before it could be read (e.g. a body over the size limit)."""
    now = now or utcnow()
    with ctx.db.session() as s:
        rec = _record(s, Verdict("refused", reason), b"", source, now)
        rec.raw_sha256 = None
        audit.record(s, "alert_refused", actor=actor or source, target=f"alert:{rec.id}",
                     detail=f"{code}: {reason}"[:1000])
        return rec.id
