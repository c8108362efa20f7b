"""Polling a warning feed on loopback: new alerts once, ETag honoured, failures logged, signatures."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from controller.alerts.models import AlertFeedState, AlertRecord
from controller.alerts.runner import AlertRunner
from controller.alerts.settings import Feed
from controller.models import AuditEvent, utcnow
from tests.alerts import fixtures as fx
from tests.alerts import signing
from tests.alerts.feed_server import FeedServer


@pytest.fixture
def server():
    with FeedServer() as srv:
        yield srv


def log_lines(controller):
    with controller.db.session() as s:
        return [(r.source, r.identifier, r.action, r.reason)
                for r in s.scalars(sa.select(AlertRecord).order_by(AlertRecord.id))]


def feed_error(controller, name):
    with controller.db.session() as s:
        return s.get(AlertFeedState, name).last_error


def test_atom_feed_alerts_are_read_once_and_the_etag_spares_the_next_poll(controller, commune, server):
    now = utcnow()
    server.publish("/cap/storm.xml", fx.storm(now))
    server.publish("/cap/test.xml", fx.flood(now, identifier="T-1").replace(b"<status>Actual",
                                                                           b"<status>Test"))
    feed = Feed(name="kttv", url=server.base + "/atom.xml", timeout_s=5)
    runner = AlertRunner(controller)
    assert len(runner.poll_once(feed)) == 2
    assert [(x[1], x[2]) for x in log_lines(controller)] == [("AG-BAO-007", "draft"), ("T-1", "test")]
    assert all(x[0] == "feed:kttv" for x in log_lines(controller))
    assert runner.poll_once(feed) == []
    assert server.requests[-1] == ("/atom.xml", server.requests[-1][1]) and server.requests[-1][1]
    assert len(server.requests) == 4  # feed, two alerts, then one conditional GET answered 304
    assert feed_error(controller, "kttv") is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_feed_down_slow_or_answering_html_is_logged_and_polling_goes_on(controller, commune, server):
    runner = AlertRunner(controller)
    down = Feed(name="down", url=f"http://127.0.0.1:{free_port()}/atom.xml", timeout_s=2)
    assert runner.poll_once(down) == []
    assert "cannot be reached" in feed_error(controller, "down")
    server.docs["/slow.xml"] = fx.storm(utcnow())
    server.slow_s = 3
    slow = Feed(name="slow", url=server.base + "/slow.xml", timeout_s=1)
    assert runner.poll_once(slow) == []
    assert "did not answer within 1 s" in feed_error(controller, "slow")
    server.docs["/maintenance.html"] = b"<!DOCTYPE html><html><body>B\xe1\xba\xa3o tr\xc3\xac</body></html>"
    html = Feed(name="html", url=server.base + "/maintenance.html", timeout_s=2)
    assert runner.poll_once(html) == []
    assert "HTML page" in feed_error(controller, "html")
    with controller.db.session() as s:
        failed = list(s.scalars(sa.select(AuditEvent.actor).where(AuditEvent.action == "alert_feed_failed")))
    assert sorted(failed) == ["feed:down", "feed:html", "feed:slow"]
    # The slow server answers in time now: the same poller reads it.
    server.slow_s = 0
    assert len(runner.poll_once(slow)) == 1
    assert feed_error(controller, "slow") is None


def test_a_feed_that_requires_signatures_takes_only_correctly_signed_alerts(controller, commune, server):
    key, cert = signing.authority()
    (controller.data / "keys").mkdir(exist_ok=True)
    (controller.data / "keys" / "kttv.pem").write_bytes(cert)
    now = utcnow()
    server.publish("/a.xml", signing.sign(fx.storm(now, identifier="SIGNED-1"), key, cert))
    server.publish("/b.xml", fx.storm(now, identifier="UNSIGNED-1"))
    tampered = signing.sign(fx.storm(now, identifier="TAMPERED-1"), key, cert).replace(
        "Tin bão số 9".encode(), "Tin bão số 10".encode())
    server.publish("/c.xml", tampered)
    other_key, other_cert = signing.authority("Somebody else")
    server.publish("/d.xml", signing.sign(fx.storm(now, identifier="OTHER-1"), other_key, other_cert))
    feed = Feed(name="kttv", url=server.base + "/atom.xml", require_signature=True,
                certificate="keys/kttv.pem", timeout_s=5)
    AlertRunner(controller).poll_once(feed)
    lines = {x[1]: x for x in log_lines(controller)}
    assert lines["SIGNED-1"][2] == "draft"
    assert lines["UNSIGNED-1"][2] == "refused" and "not signed" in lines["UNSIGNED-1"][3]
    assert lines["TAMPERED-1"][2] == "refused" and "does not verify" in lines["TAMPERED-1"][3]
    assert lines["OTHER-1"][2] == "refused"
    with controller.db.session() as s:
        assert s.scalar(sa.select(AlertRecord.signed).where(AlertRecord.identifier == "SIGNED-1"))


def test_with_unsigned_feeds_draft_an_unsigned_emergency_only_makes_a_draft(controller, commune, server):
    from dataclasses import replace

    from controller.alerts.settings import alert_settings
    from tests.alerts.conftest import ALERTS_CONF

    controller.settings = replace(controller.settings, alerts={**ALERTS_CONF, "unsigned_feeds_draft": True})
    assert alert_settings(controller.settings.alerts).unsigned_feeds_draft
    server.publish("/flood.xml", fx.flood(utcnow()))
    AlertRunner(controller).poll_once(Feed(name="open", url=server.base + "/atom.xml", timeout_s=5))
    (line,) = log_lines(controller)
    assert line[2] == "draft" and "unsigned" in line[3]


def test_rss_items_and_a_single_document_feed_are_read_too(server):
    from controller.alerts import feeds

    now = utcnow()
    server.docs["/a.xml"] = fx.storm(now, identifier="RSS-A")
    server.docs["/b.xml"] = fx.storm(now, identifier="RSS-B")
    server.docs["/rss.xml"] = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
        b'<item><title>b</title><enclosure url="/b.xml" type="application/cap+xml" length="1"/></item>'
        b"<item><title>a</title><link>" + server.base.encode() + b"/a.xml</link></item></channel></rss>")
    state = feeds.FeedState()
    docs, failed = feeds.poll(Feed(name="rss", url=server.base + "/rss.xml"), state, max_bytes=100_000)
    assert [d.url.rsplit("/", 1)[1] for d in docs] == ["a.xml", "b.xml"] and not failed
    single = Feed(name="one", url=server.base + "/a.xml")
    state = feeds.FeedState()
    assert len(feeds.poll(single, state, max_bytes=100_000)[0]) == 1
    assert feeds.poll(single, state, max_bytes=100_000)[0] == []  # same bytes: not read again
