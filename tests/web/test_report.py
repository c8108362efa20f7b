"""The period report agrees with the delivery log: every figure, and every delivery that did
not play is listed (ended without playing, with its reason, or still without an outcome)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from controller.models import utcnow
from controller.services import announcements, broadcasts, deliveries, delivery_log, registry, reports
from tests.web.test_logs import Rendered

PATHS = {  # the events each speaker's delivery goes through, and the reason of the last one
    "played": (["sent", "received", "downloaded", "playing", "played"], None),
    "failed": (["sent", "received", "failed"], "không tải được âm thanh: HTTP 500"),
    "missed": (["missed"], "quá thời hạn hiệu lực 15 phút"),
    "unconfirmed": (["sent"] * 2 + ["unconfirmed"], "loa không xác nhận sau 3 lần gửi"),
    "received": (["sent", "received"], None),  # stuck downloading: no outcome yet
    "sent": (["sent"], None),
}


def _seed_period(ctl, tz):
    """Today: three broadcasts with every kind of ending; yesterday: one that must not count."""
    midnight = datetime.combine(utcnow().astimezone(tz).date(), time(0), tzinfo=tz)
    plan = [  # (minutes after local midnight, priority, {speaker: how it ends})
        (30, "normal", {"spk-a": "played", "spk-b": "failed", "spk-c": "missed"}),
        (90, "emergency", {"spk-a": "played", "spk-b": "played", "spk-c": "unconfirmed"}),
        (150, "normal", {"spk-a": "received", "spk-b": "sent"}),
        (-1, "priority", {"spk-a": "failed"}),  # yesterday 23:59
    ]
    with ctl.db.session() as s:
        ann = announcements.create(s, ctl, title="Họp dân ấp Mỹ An", text="Họp dân",
                                   rendered=Rendered(_mp3(ctl)), source="tts", user=None, approved=True)
        for minutes, prio, ends in plan:
            b = broadcasts.create(s, announcement=ann, priority=prio, user=None,
                                  speakers=[registry.get_speaker(s, x) for x in ends],
                                  play_at=midnight + timedelta(minutes=minutes))
            s.flush()
            for d in b.deliveries:
                events, reason = PATHS[ends[d.speaker_id]]
                for i, ev in enumerate(events):
                    deliveries.append(s, d, ev, "controller" if ev in ("sent", "missed", "unconfirmed")
                                      else "agent", detail=reason if i == len(events) - 1 else None)
    return midnight.date()


def _mp3(ctl):
    path = ctl.data / "seed.mp3"
    path.write_bytes(b"ID3" + b"\0" * 100)
    return path


def test_report_figures_and_lists_match_the_delivery_log(login, seeded):
    tz = ZoneInfo(seeded.settings.timezone)
    day = _seed_period(seeded, tz)
    with seeded.db.session() as s:
        log = list(delivery_log.iter_rows(s, delivery_log.LogFilter(date_from=day, date_to=day), tz))
        rep = reports.period(s, day, day, tz)
    # the delivery log, read independently
    assert len(log) == 8
    states = Counter(r.state for r in log)
    assert states == {"played": 3, "failed": 1, "missed": 1, "unconfirmed": 1, "received": 1, "sent": 1}
    assert rep.broadcasts == len({r.broadcast_id for r in log}) == 3
    assert rep.by_priority == dict(Counter(p for p, _ in {(r.priority, r.broadcast_id) for r in log}))
    assert rep.deliveries == len(log) and rep.played == states["played"]
    assert rep.airtime_s == 4.0 * states["played"]  # each played audio lasts 4 s
    assert round(rep.success_pct, 1) == 37.5
    per_hamlet = Counter(r.hamlet for r in log)
    played_per_hamlet = Counter(r.hamlet for r in log if r.state == "played")
    assert [(h.hamlet, h.deliveries, h.played) for h in rep.hamlets] == [
        (h, per_hamlet[h], played_per_hamlet[h]) for h in sorted(per_hamlet)]
    ended = {r.delivery_id: r.detail for r in log if r.state in ("failed", "missed", "unconfirmed")}
    assert {r.delivery_id: r.detail for r in rep.problems} == ended
    assert {r.delivery_id for r in rep.unfinished} == {r.delivery_id for r in log
                                                      if r.state in ("received", "sent")}
    # every delivery is played, or listed exactly once
    listed = [r.delivery_id for r in rep.problems + rep.unfinished]
    assert len(listed) == len(set(listed)) == rep.deliveries - rep.played

    html = login("viewer").get(f"/report?date_from={day}&date_to={day}").get_data(as_text=True)
    assert 'id="rep-broadcasts">3<' in html
    assert re.search(r'id="rep-played">3 \(37[.,]5 ?%\)<', html)
    assert 'id="rep-problems">3<' in html and 'id="rep-unfinished">2<' in html
    problems_html = html.split('id="rep-problems-list"')[1].split("</table>")[0]
    assert "Không có." not in problems_html
    for delivery_id, reason in ended.items():
        row = re.search(rf'<tr data-delivery="{delivery_id}">.*?</tr>', problems_html).group(0)
        assert reason in row
    assert "Lỗi" in problems_html and "Bị lỡ" in problems_html and "Không xác nhận" in problems_html
    unfinished_html = html.split('id="rep-unfinished-list"')[1].split("</table>")[0]
    assert unfinished_html.count("<tr data-delivery=") == 2
    assert "Loa đã nhận" in unfinished_html and "Đã gửi lệnh" in unfinished_html
