"""Prometheus metrics and the health summary behind /metrics and /healthz.

The counts that live in the database (deliveries by state, the outbox, speakers, occurrences)
are read at scrape time by a custom collector, so a restarted controller reports true totals
and nothing has to be kept in step by hand. Timings that only exist while the controller runs
(speech render time, scheduler lag, ack ingest lag) are histograms observed where they happen.

Each Controller has its own CollectorRegistry: tests and tools build several controllers in
one process, and prometheus_client's global registry refuses a second metric of one name.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from controller.models import Broadcast, Delivery, Occurrence, Speaker

PREFIX = "commune_radio"


class Metrics:
    """The controller's metrics: live histograms plus a scrape-time view of the database."""

    def __init__(self, ctl):
        self.ctl = ctl
        self.registry = CollectorRegistry(auto_describe=True)
        self.render_seconds = Histogram(
            f"{PREFIX}_render_seconds", "Speech synthesis and mastering time per announcement",
            buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64), registry=self.registry)
        self.scheduler_lag_seconds = Histogram(
            f"{PREFIX}_scheduler_lag_seconds", "Occurrence fired after its dispatch time",
            buckets=(0.05, 0.1, 0.5, 1, 5, 30, 120, 900), registry=self.registry)
        self.ack_ingest_lag_seconds = Histogram(
            f"{PREFIX}_ack_ingest_lag_seconds", "Agent ack time to stored in the delivery log",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30, 300), registry=self.registry)
        self.registry.register(_DatabaseCollector(ctl))

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


class _DatabaseCollector:
    """Reads delivery, outbox, speaker, occurrence and link state at scrape time."""

    def __init__(self, ctl):
        self.ctl = ctl

    def describe(self):
        """No fixed description: the families are built on each collect."""
        return []

    def collect(self):
        """Yield one family per figure; a failing database yields commune_radio_up 0."""
        now = datetime.now(UTC)
        up = GaugeMetricFamily(f"{PREFIX}_database_up", "The database answered this scrape")
        try:
            families = list(self._from_db(now))
            up.add_metric([], 1)
        except sa.exc.SQLAlchemyError:
            families = []
            up.add_metric([], 0)
        yield up
        yield from families
        yield from self._links()
        backup = self.ctl.backups.status(now)
        last = GaugeMetricFamily(f"{PREFIX}_backup_last_success_timestamp_seconds",
                                 "Unix time of the last successful backup (0: never)")
        last.add_metric([], 0 if backup["age_s"] is None else now.timestamp() - backup["age_s"])
        yield last

    def _from_db(self, now):
        with self.ctl.db.session() as s:
            by_state = GaugeMetricFamily(f"{PREFIX}_deliveries", "Deliveries by current state and priority",
                                         labels=["state", "priority"])
            rows = s.execute(sa.select(Delivery.state, Broadcast.priority, sa.func.count())
                             .join(Broadcast).group_by(Delivery.state, Broadcast.priority))
            for state, priority, n in rows:
                by_state.add_metric([state, priority], n)
            yield by_state
            depth, oldest = s.execute(sa.select(sa.func.count(), sa.func.min(Delivery.state_at))
                                      .where(Delivery.state == "queued")).one()
            yield _gauge("outbox_depth", "Deliveries written but not yet sent", depth)
            yield _gauge("outbox_oldest_age_seconds", "Age of the oldest unsent delivery",
                         0 if oldest is None else (now - _aware(oldest)).total_seconds())
            online = GaugeMetricFamily(f"{PREFIX}_speakers", "Registered speakers by presence",
                                       labels=["online"])
            for is_on, n in s.execute(sa.select(Speaker.online, sa.func.count())
                                      .where(Speaker.revoked_at.is_(None)).group_by(Speaker.online)):
                online.add_metric(["true" if is_on else "false"], n)
            yield online
            seen = GaugeMetricFamily(f"{PREFIX}_speaker_last_seen_timestamp_seconds",
                                     "Unix time a speaker was last heard from", labels=["speaker"])
            for sid, at in s.execute(sa.select(Speaker.id, Speaker.last_seen)
                                     .where(Speaker.revoked_at.is_(None))):
                seen.add_metric([sid], 0 if at is None else _aware(at).timestamp())
            yield seen
            occ = GaugeMetricFamily(f"{PREFIX}_occurrences", "Schedule occurrences by outcome",
                                    labels=["state"])
            for state, n in s.execute(sa.select(Occurrence.state, sa.func.count())
                                      .group_by(Occurrence.state)):
                occ.add_metric([state], n)
            yield occ

    def _links(self):
        bus = self.ctl.bus
        yield _gauge("broker_connected", "The controller's MQTT session is up",
                     1 if bus is not None and bus.connected.is_set() else 0)
        streams = getattr(self.ctl, "streams_server", None)
        if streams is not None:
            yield _gauge("icecast_running", "The managed stream server (Icecast) is running",
                         1 if streams.running() else 0)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    g = GaugeMetricFamily(f"{PREFIX}_{name}", doc)
    g.add_metric([], value)
    return g


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def health(ctl) -> tuple[bool, dict]:
    """(healthy, details) for /healthz: the database answers and, when started, the broker is up."""
    details: dict = {}
    try:
        with ctl.db.session() as s:
            s.execute(sa.text("SELECT 1"))
        details["database"] = "ok"
    except sa.exc.SQLAlchemyError as exc:
        details["database"] = f"error: {type(exc).__name__}"
    if ctl.bus is not None:
        details["broker"] = "connected" if ctl.bus.connected.is_set() else "disconnected"
    details["backup_alarm"] = ctl.backups.status()["alarm"]
    if ctl.clock_problem:
        # Reported, not unhealthy: a restart would not fix the clock, only NTP does.
        details["clock"] = ctl.clock_problem
    healthy = details["database"] == "ok" and details.get("broker", "connected") == "connected"
    return healthy, details
