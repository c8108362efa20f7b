"""Pure timing decisions for occurrences: when to send, whether it is still valid, catch-up after restart.

Every function takes `now` as an argument (the injectable clock) and touches no DB or scheduler.
An occurrence is identified by (schedule_id, due_utc); `occurrence_key` turns that into the
string the DB keeps unique, so two timers or a restart can never dispatch one occurrence twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

DEFAULT_LEAD_S = 600
"""Pre-delivery: play commands go out this long before play_at."""

Decision = Literal["dispatch", "wait", "missed"]


def _utc(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")
    return instant.astimezone(UTC)


def occurrence_key(schedule_id: object, due_utc: datetime) -> str:
    """Stable unique key, e.g. '42@2026-12-01T23:00:00Z' (microseconds only when present)."""
    due = _utc(due_utc, "due_utc")
    spec = "microseconds" if due.microsecond else "seconds"
    return f"{schedule_id}@{due.replace(tzinfo=None).isoformat(timespec=spec)}Z"


def decide(occurrence_due_utc: datetime, validity_s: float, now_utc: datetime, lead_s: float = 0) -> Decision:
    """'wait' before due − lead, 'dispatch' until due + validity (inclusive), then 'missed'."""
    due = _utc(occurrence_due_utc, "occurrence_due_utc")
    now = _utc(now_utc, "now_utc")
    if now < due - timedelta(seconds=lead_s):
        return "wait"
    if now <= due + timedelta(seconds=validity_s):
        return "dispatch"
    return "missed"


def dispatch_time(play_at: datetime, lead_s: float = DEFAULT_LEAD_S, now: datetime | None = None) -> datetime:
    """When the command goes out: lead_s before play_at, or now if that moment has passed."""
    send = _utc(play_at, "play_at") - timedelta(seconds=lead_s)
    if now is not None:
        send = max(send, _utc(now, "now"))
    return send


def play_at_for(due_utc: datetime, now_utc: datetime) -> datetime:
    """Absolute play_at for a command sent now: the due time, or now when dispatched late."""
    return max(_utc(due_utc, "due_utc"), _utc(now_utc, "now_utc"))


@dataclass(frozen=True)
class Due:
    """An occurrence that may need dispatching."""

    schedule_id: str
    """Owning schedule (any stable id; str() is used in keys)."""
    due_utc: datetime
    """Aware instant it was meant to start."""
    validity_s: float | None = None
    """This schedule's validity; None uses the coalesce() default."""

    @property
    def key(self) -> str:
        """occurrence_key for this occurrence."""
        return occurrence_key(self.schedule_id, self.due_utc)


@dataclass(frozen=True)
class Missed:
    """An occurrence that will not play, with the reason for the log."""

    occurrence: Due
    """Which occurrence."""
    code: str
    """'expired' (validity passed) or 'superseded' (a later one of the same schedule plays)."""
    reason: str
    """English reason."""
    reason_vi: str
    """Vietnamese reason."""


@dataclass(frozen=True)
class CatchUp:
    """What coalesce() decided for a batch of due occurrences."""

    dispatch: list[Due]
    """Send these now (play_at = play_at_for(due, now)), oldest first."""
    missed: list[Missed]
    """Record these as missed, with their reason."""
    waiting: list[Due]
    """Not yet due: leave them to the scheduler."""
    already_done: list[Due]
    """Keys already dispatched or recorded, or listed twice: nothing to do."""


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz)


def missed_reason(due: Due, validity_s: float, now_utc: datetime, timezone: str = "UTC") -> tuple[str, str]:
    """(English, Vietnamese) reason an occurrence expired, with local times and how late it was."""
    tz = ZoneInfo(timezone)
    when = _local(_utc(due.due_utc, "due_utc"), tz)
    late_min = (_utc(now_utc, "now_utc") - _utc(due.due_utc, "due_utc")).total_seconds() / 60
    validity_min = validity_s / 60
    validity_vi = f"{validity_min:g}".replace(".", ",")  # Vietnamese writes 1,5 phút
    en = (f"Not played: due at {when:%Y-%m-%d %H:%M} ({timezone}), reached {late_min:.0f} min late, "
          f"past its {validity_min:g} min validity (controller was down or busy).")
    vi = (f"Không phát: đến giờ lúc {when:%H:%M} ngày {when:%d/%m/%Y} ({timezone}), trễ {late_min:.0f} phút, "
          f"quá thời hạn hiệu lực {validity_vi} phút (bộ điều khiển bị tắt hoặc bận).")
    return en, vi


def _superseded_reason(due: Due, later: Due, timezone: str) -> tuple[str, str]:
    tz = ZoneInfo(timezone)
    old, new = _local(due.due_utc, tz), _local(later.due_utc, tz)
    en = (f"Not played: the occurrence due {old:%Y-%m-%d %H:%M} was superseded by the later one due "
          f"{new:%Y-%m-%d %H:%M} ({timezone}) of the same schedule, which plays instead.")
    vi = (f"Không phát: lần phát lúc {old:%H:%M} ngày {old:%d/%m/%Y} được thay bằng lần sau lúc "
          f"{new:%H:%M} ngày {new:%d/%m/%Y} ({timezone}) của cùng lịch.")
    return en, vi


def coalesce(due_list: list[Due], now: datetime, validity_s: float = 900, *,
             done_keys: frozenset[str] | set[str] = frozenset(), timezone: str = "UTC") -> CatchUp:
    """Catch-up after a restart: per schedule, dispatch the newest valid occurrence; the rest are missed.

    Playing several stale occurrences of one schedule back to back helps nobody, so only the newest
    valid one plays and older ones are recorded as superseded. Keys in done_keys (already dispatched
    or recorded) and repeated entries are never dispatched again.
    """
    now = _utc(now, "now")
    seen: set[str] = set(done_keys)
    dispatch: dict[str, Due] = {}
    missed: list[Missed] = []
    waiting: list[Due] = []
    already: list[Due] = []
    for due in sorted(due_list, key=lambda d: (_utc(d.due_utc, "due_utc"), str(d.schedule_id))):
        if due.key in seen:
            already.append(due)
            continue
        seen.add(due.key)
        validity = validity_s if due.validity_s is None else due.validity_s
        verdict = decide(due.due_utc, validity, now)
        if verdict == "wait":
            waiting.append(due)
        elif verdict == "missed":
            en, vi = missed_reason(due, validity, now, timezone)
            missed.append(Missed(due, "expired", en, vi))
        else:
            schedule = str(due.schedule_id)
            older = dispatch.get(schedule)
            if older is not None:  # sorted ascending, so `due` is the later one
                en, vi = _superseded_reason(older, due, timezone)
                missed.append(Missed(older, "superseded", en, vi))
            dispatch[schedule] = due
    ordered = sorted(dispatch.values(), key=lambda d: _utc(d.due_utc, "due_utc"))
    missed.sort(key=lambda m: _utc(m.occurrence.due_utc, "due_utc"))
    return CatchUp(dispatch=ordered, missed=missed, waiting=waiting, already_done=already)
