"""The delivery log: one row per (broadcast, speaker), searchable, paginated and exportable.

Pages use "fetch one more" instead of COUNT(*): with a million events a count over every
matching row costs more than the page itself, and "next page exists" is all the UI needs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from controller.models import Announcement, Broadcast, Delivery, DeliveryEvent, Hamlet, Speaker
from controller.services import access
from protocol.messages import PRIORITIES

STATES = ("rendering", "queued", "sent", "received", "downloaded", "playing", "played", "failed", "expired",
          "preempted", "rejected", "stopped", "unconfirmed", "missed", "cancelled")
PROBLEM_STATES = ("failed", "expired", "preempted", "rejected", "unconfirmed", "missed")
# States after which nothing more is expected ("unconfirmed" could still be overtaken by a
# very late ack, but no one should wait for it).
ENDED_STATES = ("played", "failed", "expired", "preempted", "rejected", "stopped", "unconfirmed",
                "missed", "cancelled")
OPEN_STATES = tuple(x for x in STATES if x not in ENDED_STATES)
PER_PAGE = 50


@dataclass
class LogFilter:
    """What the log is narrowed to; every field optional."""

    date_from: date | None = None
    date_to: date | None = None
    hamlet_id: int | None = None
    speaker_id: str | None = None
    state: str | None = None
    priority: str | None = None
    engine: str | None = None
    broadcast_id: int | None = None
    scope: access.Scope = access.WHOLE
    """The hamlets the reader may see (a user limited to hamlets sees only theirs)."""
    errors: dict[str, str] = field(default_factory=dict)
    """field -> error code for inputs that could not be read (they are ignored)."""


@dataclass(frozen=True)
class LogRow:
    """One delivery as the log shows it."""

    delivery_id: int
    broadcast_id: int
    title: str
    priority: str
    engine: str | None
    emergency_override: bool
    play_at: datetime
    hamlet: str
    speaker_id: str
    state: str
    state_at: datetime
    detail: str | None


@dataclass(frozen=True)
class LogPage:
    """A page of rows and whether more follow."""

    rows: list[LogRow]
    page: int
    has_next: bool


def parse_day(text: str) -> date:
    """A date typed as dd/mm/yyyy (what the pages show) or ISO yyyy-mm-dd; ValueError otherwise."""
    day, sep, rest = text.partition("/")
    if sep:
        month, _sep, year = rest.partition("/")
        if not (day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4):
            raise ValueError(text)
        return date(int(year), int(month), int(day))
    return date.fromisoformat(text)


def parse_filter(args, user=None) -> LogFilter:
    """Read filters from request args (a dict-like); bad values are reported, not fatal."""
    f = LogFilter(scope=access.scope_of(user))
    for key in ("date_from", "date_to"):
        value = (args.get(key) or "").strip()
        if value:
            try:
                setattr(f, key, parse_day(value))
            except ValueError:
                f.errors[key] = "bad_date"
    if f.date_from and f.date_to and f.date_to < f.date_from:
        f.errors["date_to"] = "end_before_start"
        f.date_to = None
    for key in ("hamlet_id", "broadcast_id"):
        value = (args.get(key) or "").strip()
        if value:
            if value.isdigit():
                setattr(f, key, int(value))
            else:
                f.errors[key] = "bad_number"
    f.speaker_id = (args.get("speaker_id") or "").strip() or None
    for key, allowed in (("state", STATES), ("priority", PRIORITIES)):
        value = (args.get(key) or "").strip()
        if value and value not in allowed:
            f.errors[key] = "bad_choice"
        elif value:
            setattr(f, key, value)
    f.engine = (args.get("engine") or "").strip() or None
    return f


ROW_COLUMNS = (Delivery.id, Broadcast.id, Announcement.title, Broadcast.priority, Announcement.engine,
               Broadcast.emergency_override, Broadcast.play_at, Hamlet.name, Delivery.speaker_id,
               Delivery.state, Delivery.state_at)


def _ids_query(f: LogFilter, tz: ZoneInfo):
    """Matching delivery ids, newest first: two tables only, other filters as IN subqueries.

    With all five tables joined, SQLite's planner starts from the smallest (announcements)
    and sorts every row: 4.6 s unfiltered on a million events. Joining deliveries to
    broadcasts alone lets it walk ix_broadcasts_play_at and stop after one page.
    """
    q = (sa.select(Delivery.id).select_from(Delivery)
         .join(Broadcast, Delivery.broadcast_id == Broadcast.id))
    if f.scope.limited:
        q = q.where(access.delivery_filter(f.scope))
    if f.date_from:
        q = q.where(Broadcast.play_at >= _local_midnight(f.date_from, tz))
    if f.date_to:
        q = q.where(Broadcast.play_at < _local_midnight(f.date_to + timedelta(days=1), tz))
    if f.hamlet_id:
        q = q.where(Delivery.speaker_id.in_(sa.select(Speaker.id).where(Speaker.hamlet_id == f.hamlet_id)))
    if f.speaker_id:
        q = q.where(Delivery.speaker_id == f.speaker_id)
    if f.state:
        q = q.where(Delivery.state == f.state)
    if f.priority:
        q = q.where(Broadcast.priority == f.priority)
    if f.engine:
        q = q.where(Broadcast.announcement_id.in_(
            sa.select(Announcement.id).where(Announcement.engine == f.engine)))
    if f.broadcast_id:
        q = q.where(Delivery.broadcast_id == f.broadcast_id)
    return q.order_by(Broadcast.play_at.desc(), Delivery.id.desc())


def _rows_for(s: Session, ids: list[int]) -> list[LogRow]:
    """The log rows for these delivery ids, in the order given."""
    if not ids:
        return []
    q = (sa.select(*ROW_COLUMNS).select_from(Delivery)
         .join(Broadcast, Delivery.broadcast_id == Broadcast.id)
         .join(Announcement, Broadcast.announcement_id == Announcement.id)
         .join(Speaker, Delivery.speaker_id == Speaker.id)
         .join(Hamlet, Speaker.hamlet_id == Hamlet.id)
         .where(Delivery.id.in_(ids)))
    by_id = {r[0]: r for r in s.execute(q)}
    details = _details(s, ids)
    return [LogRow(*by_id[i], detail=details.get(i)) for i in ids if i in by_id]


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


# Events whose detail explains why something did not (or not yet) play. The details of
# other events are bookkeeping ("volume 80" on playing, "resend 1" on sent), not reasons.
REASON_EVENTS = ("failed", "expired", "rejected", "preempted", "missed", "unconfirmed",
                 "cancelled", "stopped")


def _details(s: Session, delivery_ids: list[int]) -> dict[int, str]:
    """The newest event detail (a reason) per delivery, for the rows on one page."""
    if not delivery_ids:
        return {}
    newest = (sa.select(sa.func.max(DeliveryEvent.id))
              .where(DeliveryEvent.delivery_id.in_(delivery_ids), DeliveryEvent.detail.is_not(None),
                     DeliveryEvent.event.in_(REASON_EVENTS))
              .group_by(DeliveryEvent.delivery_id))
    rows = s.execute(sa.select(DeliveryEvent.delivery_id, DeliveryEvent.detail)
                     .where(DeliveryEvent.id.in_(newest))).all()
    return dict(rows)


def search(s: Session, f: LogFilter, tz: ZoneInfo, page: int = 1, per_page: int = PER_PAGE) -> LogPage:
    """One page of the filtered log, newest first."""
    page = max(1, page)
    ids = list(s.scalars(_ids_query(f, tz).limit(per_page + 1).offset((page - 1) * per_page)))
    return LogPage(rows=_rows_for(s, ids[:per_page]), page=page, has_next=len(ids) > per_page)


def iter_rows(s: Session, f: LogFilter, tz: ZoneInfo, chunk: int = 2000) -> Iterator[LogRow]:
    """Every matching row, in chunks (for the CSV export and the report)."""
    ids = list(s.scalars(_ids_query(f, tz)))
    for i in range(0, len(ids), chunk):
        yield from _rows_for(s, ids[i:i + chunk])


CSV_HEADER = ("broadcast", "title", "priority", "engine", "emergency_override", "play_at_local",
              "hamlet", "speaker", "state", "state_at_local", "detail")


def machine_cells(r: LogRow, tz: ZoneInfo) -> tuple:
    """A row in the machine-readable form: English codes, ISO-like local times."""
    return (r.broadcast_id, r.title, r.priority, r.engine or "", "yes" if r.emergency_override else "",
            _fmt(r.play_at, tz), r.hamlet, r.speaker_id, r.state, _fmt(r.state_at, tz), r.detail or "")


def csv_text(rows, tz: ZoneInfo, header=CSV_HEADER, cells=machine_cells) -> Iterator[str]:
    """CSV lines with a UTF-8 BOM first, so Excel reads Vietnamese correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)

    def flush() -> str:
        out = buf.getvalue()
        buf.seek(0)
        buf.truncate(0)
        return out

    writer.writerow(header)
    yield "\ufeff" + flush()
    for r in rows:
        writer.writerow([spreadsheet_safe(v) for v in cells(r, tz)])
        yield flush()


# Excel and LibreOffice run a cell that starts with one of these as a formula (OWASP "CSV
# Injection"); titles are typed by staff and ack details come from the speakers' Pis.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as text: a leading formula character gets a `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _fmt(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if at else ""


@dataclass(frozen=True)
class Matrix:
    """Per broadcast: speakers × event kinds, each cell the time of that event."""

    broadcast: Broadcast
    columns: list[str]
    rows: list[tuple[Delivery, dict[str, datetime], str | None]]


MATRIX_COLUMNS = ("queued", "sent", "received", "downloaded", "playing", "played")


def matrix(s: Session, broadcast_id: int, user=None) -> Matrix:
    """The speaker × state matrix of one broadcast (the user's hamlets), with the last reasons."""
    from controller.services import broadcasts

    b = broadcasts.get(s, broadcast_id, user)
    shown = access.visible_deliveries(s, b, access.scope_of(user))
    extra = sorted({e.event for d in shown for e in d.events} - set(MATRIX_COLUMNS))
    rows = []
    for d in sorted(shown, key=lambda x: x.speaker_id):
        times: dict[str, datetime] = {}
        reason = None
        for e in d.events:
            times.setdefault(e.event, e.at)
            if e.detail and e.event in REASON_EVENTS:
                reason = e.detail
        rows.append((d, times, reason))
    return Matrix(broadcast=b, columns=list(MATRIX_COLUMNS) + extra, rows=rows)


def all_ended(m: Matrix) -> bool:
    """True when no delivery of the broadcast can change any more (a live page stops polling)."""
    return all(d.state in ENDED_STATES for d, _times, _reason in m.rows)
