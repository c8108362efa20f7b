"""The alert runner: one polling loop per configured feed, and a loop for deferred stops.

Like controller/dispatcher.py, every loop catches, logs and backs off: a feed that is down,
slow or answering HTML is written to its state row (shown on the page) and in the log, and
is polled again at its interval; nothing a feed sends can stop the loop or the controller.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import requests

from controller.alerts import feeds, intake, lifecycle
from controller.alerts.models import AlertFeedState
from controller.alerts.settings import Feed, alert_settings
from controller.models import utcnow

log = logging.getLogger(__name__)


class AlertRunner:
    """Polls feeds and sends stops for cancelled repeats when they begin."""

    def __init__(self, ctx, clock=utcnow):
        self.ctx = ctx
        self.clock = clock
        self.conf = alert_settings(ctx.settings.alerts)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._later: list[lifecycle.Stop] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start one thread per feed and the stop loop."""
        for feed in self.conf.feeds:
            t = threading.Thread(target=self._feed_loop, args=(feed,), name=f"feed-{feed.name}",
                                 daemon=True)
            self._threads.append(t)
        self._threads.append(threading.Thread(target=self._stop_loop, name="alert-stops", daemon=True))
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        """Stop every loop."""
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout=15)

    def stop_later(self, stops: list[lifecycle.Stop]) -> None:
        """Stop these speakers when their pre-delivered repeat begins."""
        with self._lock:
            self._later += stops
        self._wake.set()

    def _stop_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            try:
                now = self.clock()
                with self._lock:
                    due = [x for x in self._later if x.at <= now]
                    self._later = [x for x in self._later if x.at > now]
                for speaker_id in sorted({x.speaker_id for x in due}):
                    lifecycle.stop_speaker(self.ctx, speaker_id)
            except Exception:
                log.exception("alert stop pass failed; retrying")

    def _feed_loop(self, feed: Feed) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            try:
                self.poll_once(feed, session)
            except Exception:
                log.exception("feed %s: poll failed", feed.name)
            self._stop.wait(feed.interval_s)

    def poll_once(self, feed: Feed, session: requests.Session | None = None) -> list[int]:
        """Poll one feed now and take in what is new; returns the alert-log ids written."""
        now = self.clock()
        state = self._load(feed)
        ids: list[int] = []
        error = None
        try:
            docs, failed = feeds.poll(feed, state, max_bytes=self.conf.max_bytes, session=session)
            error = "; ".join(failed)[:500] or None
        except feeds.FeedError as exc:
            docs, error = [], str(exc)[:500]
            log.warning("feed %s: %s", feed.name, error)
        for doc in docs:
            ids.append(intake.receive(self.ctx, doc.data, source=f"feed:{feed.name}", feed=feed,
                                      now=self.clock()))
        self._save(feed, state, now, error)
        return ids

    def _load(self, feed: Feed) -> feeds.FeedState:
        with self.ctx.db.session() as s:
            row = s.get(AlertFeedState, feed.name)
            if row is None:
                return feeds.FeedState()
            return feeds.FeedState(etag=row.etag, last_modified=row.last_modified, seen=list(row.seen or []))

    def _save(self, feed: Feed, state: feeds.FeedState, now: datetime, error: str | None) -> None:
        from controller.services import audit

        with self.ctx.db.session() as s:
            row = s.get(AlertFeedState, feed.name)
            if row is None:
                row = AlertFeedState(name=feed.name, seen=[])
                s.add(row)
            was_error = row.last_error
            row.etag, row.last_modified, row.seen = state.etag, state.last_modified, list(state.seen)
            row.checked_at, row.last_error = now, error
            if error is None:
                row.ok_at = now
            if error and error != was_error:  # audit changes of health, not every failed poll
                audit.record(s, "alert_feed_failed", actor=f"feed:{feed.name}", target=feed.url[:200],
                             detail=error)
            elif was_error and not error:
                audit.record(s, "alert_feed_recovered", actor=f"feed:{feed.name}", target=feed.url[:200])
