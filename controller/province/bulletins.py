"""Bulletins from the province: receive, cancel, reschedule → an announcement with a schedule.

Everything is checked before anything is stored: areas, the schedule (no past instant), the
content (text, or a Link fetched within the size limit, checked playable and mastered like an
upload). Then one transaction writes the bulletin, its announcement and its schedules; a
bulletin id seen twice is processed once (unique BanTinId). What airs by itself follows the
commune's policy table ([[province.policy]], the CAP alerts' shape).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from controller.models import Announcement, Hamlet, Schedule, utcnow
from controller.province.audio_fetch import FetchError, fetch
from controller.province.models import ProvinceBulletin
from controller.services import announcements, audit
from schedules import store
from schedules.plan import SchedulePlan
from schedules.recurrence import Recurrence

log = logging.getLogger(__name__)
LEVEL_PRIORITY = {1: "emergency", 2: "priority", 3: "normal"}


class BulletinError(ValueError):
    """A bulletin that cannot be taken; the message (Vietnamese) goes into MoTa."""

    def __init__(self, message_vi: str, code: int = 2):
        super().__init__(message_vi)
        self.message_vi = message_vi
        self.code = code


@dataclass(frozen=True)
class Outcome:
    """What became of a bulletin: the envelope's MoTa and NoiDung."""

    message_vi: str
    content: dict


def _get(body: dict, f: dict, key: str, required: bool = True):
    value = body.get(f[key])
    if required and (value is None or value == "" or value == []):
        raise BulletinError(f"Thiếu trường {f[key]}")
    return value


def _parse_instant(value, tz: ZoneInfo, name: str) -> datetime:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        raise BulletinError(f"{name}: '{value}' không phải thời điểm ISO 8601") from None
    return at.replace(tzinfo=tz) if at.tzinfo is None else at


def _instants(body: dict, f: dict, tz: ZoneInfo, now: datetime) -> list[datetime]:
    """Every airing instant of LichPhat (ThoiDiemBatDau × DanhSachNgayPhat), none in the past."""
    sched = _get(body, f, "schedule")
    if not isinstance(sched, dict):
        raise BulletinError(f"{f['schedule']} phải là một đối tượng")
    starts = sched.get(f["schedule_starts"])
    starts = [starts] if isinstance(starts, str) else starts
    if not isinstance(starts, list) or not starts:
        raise BulletinError(f"{f['schedule']}.{f['schedule_starts']}: cần ít nhất một thời điểm")
    days = sched.get(f["schedule_days"]) or []
    out: list[datetime] = []
    for value in starts:
        if days and len(str(value)) <= 8:  # a time of day on each listed date
            try:
                t = time.fromisoformat(str(value))
                for d in days:
                    out.append(datetime.combine(date.fromisoformat(str(d)), t, tz))
            except ValueError:
                raise BulletinError(f"{f['schedule']}: giờ '{value}' hoặc ngày trong "
                                    f"{f['schedule_days']} không hợp lệ") from None
        else:
            out.append(_parse_instant(value, tz, f"{f['schedule']}.{f['schedule_starts']}"))
    past = [a for a in out if a <= now]
    if past:
        raise BulletinError(f"{f['schedule']}: thời điểm {past[0].astimezone(tz):%H:%M %d/%m/%Y} "
                            f"đã qua")
    return sorted(set(out))


def _hamlets(s, body: dict, f: dict, mapping) -> list[str]:
    codes = _get(body, f, "areas")
    if not isinstance(codes, list):
        raise BulletinError(f"{f['areas']} phải là danh sách mã địa bàn")
    names, unknown = [], []
    for code in codes:
        code = code.get("MaDiaBan") if isinstance(code, dict) else code
        name = mapping.hamlet_for_area(str(code))
        if name is None or s.scalar(sa.select(Hamlet.id).where(Hamlet.name == name)) is None:
            unknown.append(str(code))
        else:
            names.append(name)
    if unknown:
        raise BulletinError(f"Mã địa bàn không có trong bảng ánh xạ của xã: {', '.join(unknown)}")
    return list(dict.fromkeys(names))


def _level(body: dict, f: dict) -> int:
    level = body.get(f["priority"], 3)
    try:
        level = int(level)
    except (TypeError, ValueError):
        level = 0
    if level not in LEVEL_PRIORITY:
        raise BulletinError(f"{f['priority']} phải là 1 (khẩn cấp), 2 (ưu tiên) hoặc 3 (thông thường)")
    return level


def _render(link, ctx, body: dict, f: dict):
    """The mastered audio of the bulletin: its Link (fetched, checked, mastered) or its text."""
    from audio.errors import AudioError
    from audio.render import render_upload
    from audio.settings import UploadLimits
    from controller import speech

    content = _get(body, f, "content")
    if isinstance(content, str):
        content = {f["content_text"]: content}
    if not isinstance(content, dict):
        raise BulletinError(f"{f['content']} phải có {f['content_link']} hoặc {f['content_text']}")
    url, text = content.get(f["content_link"]), content.get(f["content_text"])
    try:
        if url:
            with tempfile.TemporaryDirectory(dir=ctx.cache_dir if ctx.cache_dir.exists() else None
                                             ) as tmp:
                src = Path(tmp) / "bulletin"
                fetch(str(url), src, link.settings.max_audio_bytes, link.settings.timeout_s,
                      verify=link.sender.client.verify)
                return render_upload(src, speech.master_settings(ctx.settings), UploadLimits(),
                                     ctx.cache_dir), "upload", None
        if isinstance(text, str) and text.strip():
            text = announcements.check_text(text, ctx.settings.max_text_chars)
            return speech.render_text(ctx, text), "tts", text
    except FetchError as exc:
        raise BulletinError(exc.message_vi) from None
    except AudioError as exc:
        raise BulletinError(f"Tệp âm thanh không phát được: {exc}") from None
    raise BulletinError(f"{f['content']} phải có {f['content_link']} hoặc {f['content_text']}")


def receive(ctx, body) -> Outcome:
    """Take a new bulletin: check it all, then store bulletin, announcement and schedules at once."""
    link = ctx.province
    f = link.mapping.fields("bulletin")
    tz = ZoneInfo(ctx.settings.timezone)
    if not isinstance(body, dict):
        raise BulletinError("Dữ liệu không phải một đối tượng JSON")
    bulletin_id = str(_get(body, f, "bulletin_id"))[:100]
    with ctx.db.session() as s:
        if s.scalar(sa.select(ProvinceBulletin.id).where(ProvinceBulletin.bulletin_id == bulletin_id)):
            return Outcome("Bản tin đã nhận trước đó; không xử lý lại", {f["bulletin_id"]: bulletin_id})
        title = str(_get(body, f, "title"))[:200]
        level = _level(body, f)
        instants = _instants(body, f, tz, utcnow())
        hamlets = _hamlets(s, body, f, link.mapping)
    action = link.settings.action_for(level)
    if action == "ignore":
        raise BulletinError("Xã đã cấu hình bỏ qua bản tin ở mức ưu tiên này", code=3)
    rendered, source, text = _render(link, ctx, body, f)
    field = body.get(f["field"])
    approved = action != "draft"
    priority = LEVEL_PRIORITY[level] if action == "draft" else (
        action if action in LEVEL_PRIORITY.values() else LEVEL_PRIORITY[level])
    try:
        with ctx.db.session() as s:
            ann = announcements.create(s, ctx, title=title, text=text, rendered=rendered,
                                       source=source, user=None, approved=approved)
            schedule_ids = _schedules(s, ann, instants, hamlets, priority, tz)
            s.add(ProvinceBulletin(bulletin_id=bulletin_id, title=title, level=level,
                                   field=int(field) if str(field).isdigit() else None,
                                   announcement_id=ann.id, schedule_ids=schedule_ids,
                                   state="scheduled" if approved else "waiting"))
            audit.record(s, "province_bulletin", actor="province", target=f"announcement:{ann.id}",
                         detail=f"BanTinId={bulletin_id} level={level} action={action}")
    except IntegrityError:  # the same id arrived twice at once: the other one won
        return Outcome("Bản tin đã nhận trước đó; không xử lý lại", {f["bulletin_id"]: bulletin_id})
    _refresh(ctx)
    msg = "Đã nhận, đã lên lịch phát" if approved else "Đã nhận, chờ lãnh đạo xã duyệt"
    return Outcome(msg, {f["bulletin_id"]: bulletin_id, "SoLanPhat": len(instants)})


def _schedules(s, ann: Announcement, instants: list[datetime], hamlets: list[str], priority: str,
               tz: ZoneInfo) -> list[int]:
    ids = []
    now = utcnow()
    for at in instants:
        rec = Recurrence(kind="once", at=at.astimezone(tz).replace(tzinfo=None), timezone=tz.key)
        plan = SchedulePlan(recurrence=rec, priority=priority)
        sch = store.add_schedule(s, announcement_id=ann.id, plan=plan.to_dict(),
                                 targets={"hamlets": hamlets}, user_id=None, now=now)
        ids.append(sch.id)
    return ids


def _known(s, body, f) -> ProvinceBulletin:
    if not isinstance(body, dict):
        raise BulletinError("Dữ liệu không phải một đối tượng JSON")
    bulletin_id = str(_get(body, f, "bulletin_id"))
    b = s.scalar(sa.select(ProvinceBulletin).where(ProvinceBulletin.bulletin_id == bulletin_id))
    if b is None:
        raise BulletinError(f"Không có bản tin {f['bulletin_id']}={bulletin_id} ở xã", code=4)
    return b


def cancel(ctx, body) -> Outcome:
    """Cancel a received bulletin: its schedules stop; what already aired stays in the log."""
    f = ctx.province.mapping.fields("bulletin")
    with ctx.db.session() as s:
        b = _known(s, body, f)
        _cancel_schedules(s, b)
        b.state, b.updated_at = "cancelled", utcnow()
        audit.record(s, "province_bulletin_cancelled", actor="province", target=b.bulletin_id)
    _refresh(ctx)
    return Outcome("Đã hủy bản tin", {f["bulletin_id"]: b.bulletin_id})


def _cancel_schedules(s, b: ProvinceBulletin) -> None:
    for sid in b.schedule_ids or []:
        sch = s.get(Schedule, sid)
        if sch is not None and sch.status != "cancelled":
            sch.status, sch.updated_at = "cancelled", utcnow()


def reschedule(ctx, body) -> Outcome:
    """Replace a received bulletin's schedule with the new LichPhat (and areas, when given)."""
    link = ctx.province
    f = link.mapping.fields("bulletin")
    tz = ZoneInfo(ctx.settings.timezone)
    with ctx.db.session() as s:
        b = _known(s, body, f)
        if b.state == "cancelled":
            raise BulletinError("Bản tin đã bị hủy, không đổi lịch được", code=4)
        instants = _instants(body, f, tz, utcnow())
        if body.get(f["areas"]):
            hamlets = _hamlets(s, body, f, link.mapping)
        else:
            old = s.get(Schedule, (b.schedule_ids or [None])[0])
            hamlets = old.targets.get("hamlets", []) if old else []
        old_plan = s.get(Schedule, b.schedule_ids[0]).plan if b.schedule_ids else {}
        _cancel_schedules(s, b)
        ann = s.get(Announcement, b.announcement_id)
        b.schedule_ids = _schedules(s, ann, instants, hamlets,
                                    old_plan.get("priority", LEVEL_PRIORITY[b.level]), tz)
        b.updated_at = utcnow()
        audit.record(s, "province_bulletin_rescheduled", actor="province", target=b.bulletin_id)
    _refresh(ctx)
    return Outcome("Đã đổi lịch phát", {f["bulletin_id"]: b.bulletin_id, "SoLanPhat": len(instants)})


def _refresh(ctx) -> None:
    runner = getattr(ctx, "scheduler", None)
    if runner is not None:
        runner.refresh()
