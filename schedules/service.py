"""ScheduleRunner: derives APScheduler timers from the database and fires occurrences.

The DB is the source of truth. Schedules expand into Occurrence rows up to a horizon
(`planned_until` per schedule, so after any downtime every occurrence since the last
expansion still gets a row and an outcome). APScheduler 3 holds only in-memory date jobs,
one per planned occurrence at its dispatch time (play_at − lead time, or now when already
inside the lead); they are rebuilt from the DB on every start and refresh, so no pickled job
state is ever needed.

APScheduler 3 drops a job that runs more than `misfire_grace_time` late (default 1 s) without
a word. We set misfire_grace_time=None (run however late) and coalesce=True (a date job has a
single run time anyway), and never rely on either: whether a late occurrence still plays is
decided by schedules.runtime.decide/coalesce against its own validity window, here.

One runner per controller process: Controller.start() (`commune-radio serve`) creates it. A
web worker (a WSGI app created with create_app) must never start one, or each worker would
fire every occurrence; the claim in schedules.firing would still stop double airing, but the
timers would be wasted and race.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from controller.models import utcnow
from schedules import firing, store
from schedules.plan import SchedulePlan
from schedules.recurrence import occurrences
from schedules.runtime import CatchUp, Due, coalesce, dispatch_time, occurrence_key

log = logging.getLogger(__name__)
HORIZON = timedelta(hours=48)
"""Occurrences are materialized and armed this far ahead."""
REFRESH_S = 300
"""How often the horizon is extended and timers re-derived from the DB."""
_JOB_PREFIX = "occ-"


class ScheduleRunner:
    """Catches up on start, keeps Occurrence rows and timers in step with the DB, fires occurrences."""

    def __init__(self, ctx, *, clock: Callable[[], datetime] = utcnow, horizon: timedelta = HORIZON,
                 refresh_s: float = REFRESH_S):
        self.ctx = ctx
        self.clock = clock
        self.horizon = horizon
        self.refresh_s = refresh_s
        self.timezone = ctx.settings.timezone
        self._lock = threading.RLock()
        self._sched: BackgroundScheduler | None = None

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Start the timer thread, catch up on what fell due while down, arm the next occurrences."""
        self._sched = BackgroundScheduler(
            timezone=UTC, jobstores={"default": MemoryJobStore()},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1})
        self._sched.start()
        self._safe_reconcile()
        self._sched.add_job(self._safe_reconcile, "interval", seconds=self.refresh_s, id="refresh")
        log.info("schedule runner started (horizon %s, refresh every %ss)", self.horizon, self.refresh_s)

    def stop(self) -> None:
        """Stop the timers (a firing occurrence finishes its transaction first)."""
        if self._sched is not None:
            self._sched.shutdown(wait=True)
            self._sched = None

    def refresh(self) -> None:
        """Re-derive rows and timers now (after a schedule is created, edited, paused …)."""
        self._safe_reconcile()

    # -- the work -------------------------------------------------------------------

    def reconcile(self, now: datetime | None = None) -> CatchUp:
        """Expand schedules, settle occurrences already due, arm timers for the rest."""
        now = now or self.clock()
        with self._lock:
            result = self.catch_up(now)
            self.arm(now)
        return result

    def materialize(self, now: datetime) -> int:
        """Give every active schedule's occurrences up to now + horizon a row; returns rows added."""
        until = now + self.horizon
        added = 0
        with self.ctx.db.session() as s:
            for sch in store.active_schedules(s):
                start = sch.planned_until or sch.created_at
                if start >= until:
                    continue
                rec = SchedulePlan.from_dict(sch.plan).recurrence
                rows = [(occurrence_key(sch.id, due), due) for due in occurrences(rec, start, until)]
                added += store.insert_occurrences(s, sch.id, rows, now)
                sch.planned_until = until
        return added

    def catch_up(self, now: datetime) -> CatchUp:
        """Occurrences due by now: the newest valid one per schedule plays, the rest are missed."""
        self.materialize(now)
        with self.ctx.db.session() as s:
            past = store.planned(s, due_before=now)
            ids = {o.occurrence_key: o.id for o in past}
            dues = [Due(str(o.schedule_id), o.due_at, SchedulePlan.from_dict(o.schedule.plan).validity_s)
                    for o in past]
            result = coalesce(dues, now, done_keys=frozenset(), timezone=self.timezone)
            for miss in result.missed:
                occ = store.get_occurrence(s, ids[miss.occurrence.key])
                if store.claim(s, occ.id, now, to_state="missed"):
                    firing.record_missed(s, occ, now, miss.code, miss.reason, miss.reason_vi)
        for due in result.dispatch:
            outcome = firing.fire_safely(self.ctx, ids[due.key], now, self.timezone)
            log.info("catch-up: occurrence %s due %s -> %s", due.key, due.due_utc, outcome.state)
        return result

    def arm(self, now: datetime) -> int:
        """One date job per planned occurrence due soon; stale jobs removed; returns how many."""
        if self._sched is None:
            return 0
        lead_s = self.ctx.settings.lead_time_s
        # Only timers due before the refresh after next: a per-minute cron would otherwise hold
        # thousands of jobs; later ones are armed by later refreshes (one may fail and retry).
        window = timedelta(seconds=lead_s + 2 * self.refresh_s)
        with self.ctx.db.session() as s:
            rows = [(o.id, o.due_at) for o in store.planned(s, due_after=now, due_before=now + window)]
        wanted = {f"{_JOB_PREFIX}{occ_id}" for occ_id, _ in rows}
        for job in self._sched.get_jobs():
            if job.id.startswith(_JOB_PREFIX) and job.id not in wanted:
                job.remove()
        for occ_id, due in rows:
            self._sched.add_job(self._on_timer, "date", args=[occ_id], id=f"{_JOB_PREFIX}{occ_id}",
                                run_date=dispatch_time(due, lead_s, now), replace_existing=True)
        return len(rows)

    def fire(self, occurrence_id: int, now: datetime | None = None) -> firing.Outcome:
        """Dispatch one occurrence now (what a timer does); safe to call twice."""
        return firing.fire_safely(self.ctx, occurrence_id, now or self.clock(), self.timezone)

    # -- timer bodies (loop boundaries: log and carry on) -------------------------------

    def _on_timer(self, occurrence_id: int) -> None:
        try:
            outcome = self.fire(occurrence_id)
            if outcome.state == "waiting" and self._sched is not None:
                self._sched.add_job(self._on_timer, "date", args=[occurrence_id],
                                    id=f"{_JOB_PREFIX}{occurrence_id}", replace_existing=True,
                                    run_date=self.clock() + timedelta(seconds=1))
        except Exception:
            log.exception("firing occurrence %s failed; the next refresh retries it", occurrence_id)

    def _safe_reconcile(self) -> None:
        try:
            self.reconcile()
        except Exception:
            log.exception("schedule refresh failed; retrying in %ss", self.refresh_s)
