"""Bulletins down from the province: they air where and when it says, once; bad ones store nothing."""

from __future__ import annotations

import io
import math
import struct
import threading
import wave
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from controller.models import Announcement, Broadcast, Delivery, Occurrence, Schedule, utcnow
from controller.province.models import ProvinceBulletin
from schedules.service import ScheduleRunner
from tests.province.conftest import TOKEN

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 8))) for i in range(16000)))
    return buf.getvalue()


class AudioLinks:
    """Loopback server for NoiDung.Link: a real WAV, an HTML page, a 500 MB file, an endless one."""

    def __init__(self):
        self.sent = {"huge": 0, "endless": 0}
        wav, links = _wav(), self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.strip("/")
                body, ctype, length = {
                    "ok.wav": (wav, "audio/wav", len(wav)),
                    "page": (b"<html>not audio</html>", "text/html", 22),
                    "huge": (None, "audio/mpeg", 500_000_000),
                    "endless": (None, "audio/mpeg", None),
                }.get(name, (b"", "text/plain", 0))
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                if length is not None:
                    self.send_header("Content-Length", str(length))
                self.end_headers()
                try:
                    if body is not None:
                        self.wfile.write(body)
                        return
                    for _ in range(8000):  # 500 MB at most, if anyone kept reading
                        self.wfile.write(b"\xff" * 65536)
                        links.sent[name] += 65536
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def links():
    srv = AudioLinks()
    yield srv
    srv.close()


@pytest.fixture
def client(linked):
    from controller.app import create_app

    app = create_app(controller=linked)
    app.config.update(TESTING=True)
    return app.test_client()


def _at(minutes: float) -> str:
    return (utcnow() + timedelta(minutes=minutes)).astimezone(TZ).isoformat(timespec="seconds")


def bulletin(bid="BT-1", **over) -> dict:
    body = {"NguonId": "TINH", "BanTinId": bid, "TieuDe": "Phòng chống bão", "LinhVuc": 2,
            "MucDoUuTien": 2, "LichPhat": {"KieuLich": 1, "ThoiDiemBatDau": [_at(120)]},
            "NoiDung": {"VanBan": "Bão số 5 sắp vào, bà con chằng chống nhà cửa."},
            "DanhSachDiaBanNhan": ["30001", "30003"]}
    body.update(over)
    return body


def _counts(ctl) -> tuple[int, int, int]:
    with ctl.db.session() as s:
        return tuple(s.scalar(sa.select(sa.func.count()).select_from(m))
                     for m in (ProvinceBulletin, Announcement, Schedule))


def test_a_bulletin_airs_on_its_hamlets_at_its_time_and_is_processed_once(linked, client):
    when = _at(120)
    body = bulletin(LichPhat={"KieuLich": 1, "ThoiDiemBatDau": [when]})
    r = client.post("/province/v1/ban-tin", json=body, headers=AUTH)
    assert r.status_code == 200 and r.json["TrangThaiGui"] == 0, r.json
    again = client.post("/province/v1/ban-tin", json=body, headers=AUTH)
    assert again.json["TrangThaiGui"] == 0 and "trước đó" in again.json["MoTa"]
    assert _counts(linked) == (1, 1, 1)
    due = datetime.fromisoformat(when)
    with linked.db.session() as s:
        sch = s.scalar(sa.select(Schedule))
        assert sch.plan["priority"] == "priority" and sch.targets == {"hamlets": ["Ấp Mỹ An", "Ấp Mỹ Phú"]}
    runner = ScheduleRunner(linked)
    runner.materialize(utcnow())
    with linked.db.session() as s:
        occ = s.scalar(sa.select(Occurrence))
    assert occ.due_at == due
    # The runner's clock at the moment its timer fires: the lead time before the bulletin's time.
    assert runner.fire(occ.id, now=occ.due_at - timedelta(seconds=linked.settings.lead_time_s)
                       ).state == "dispatched"
    with linked.db.session() as s:
        b = s.scalar(sa.select(Broadcast))
        speakers = set(s.scalars(sa.select(Delivery.speaker_id)))
        assert speakers == {"spk-a", "spk-c"} and b.priority == "priority"
        assert b.play_at == occ.due_at


def test_cancel_and_reschedule(linked, client):
    client.post("/province/v1/ban-tin", json=bulletin("BT-2"), headers=AUTH)
    r = client.post("/province/v1/ban-tin/doi-lich", headers=AUTH, json={
        "BanTinId": "BT-2", "LichPhat": {"ThoiDiemBatDau": [_at(180), _at(240)]},
        "DanhSachDiaBanNhan": ["30002"]})
    assert r.json["TrangThaiGui"] == 0 and r.json["NoiDung"]["SoLanPhat"] == 2, r.json
    with linked.db.session() as s:
        active = s.scalars(sa.select(Schedule).where(Schedule.status == "active")).all()
        assert len(active) == 2 and all(x.targets == {"hamlets": ["Ấp Mỹ Hòa"]} for x in active)
    r = client.post("/province/v1/ban-tin/huy", json={"BanTinId": "BT-2"}, headers=AUTH)
    assert r.json["TrangThaiGui"] == 0
    with linked.db.session() as s:
        assert not s.scalars(sa.select(Schedule).where(Schedule.status == "active")).all()
    ScheduleRunner(linked).reconcile(now=utcnow() + timedelta(hours=5))
    with linked.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Broadcast)) == 0
    for path in ("/province/v1/ban-tin/huy", "/province/v1/ban-tin/doi-lich"):
        r = client.post(path, json={"BanTinId": "KHONG-CO", "LichPhat": {"ThoiDiemBatDau": [_at(60)]}},
                        headers=AUTH)
        assert r.status_code == 404 and r.json["TrangThaiGui"] == 4 and "KHONG-CO" in r.json["MoTa"]


def test_a_link_is_fetched_checked_and_mastered(linked, client, links):
    r = client.post("/province/v1/ban-tin", headers=AUTH, json=bulletin(
        "BT-3", NoiDung={"Link": f"{links.base}/ok.wav"}))
    assert r.json["TrangThaiGui"] == 0, r.json
    with linked.db.session() as s:
        ann = s.scalar(sa.select(Announcement))
        assert ann.audio_sha256 and ann.audio.duration_ms > 500 and ann.status == "approved"


@pytest.mark.parametrize("case", ["malformed", "unknown_area", "past", "not_audio", "huge", "endless",
                                  "no_token", "bad_level"])
def test_bad_bulletins_get_a_clear_error_and_store_nothing(linked, client, links, case):
    if case == "endless":
        object.__setattr__(linked.province.settings, "max_audio_bytes", 1_000_000)
    body = {
        "unknown_area": bulletin(DanhSachDiaBanNhan=["30001", "99999"]),
        "past": bulletin(LichPhat={"ThoiDiemBatDau": [_at(-5)]}),
        "not_audio": bulletin(NoiDung={"Link": f"{links.base}/page"}),
        "huge": bulletin(NoiDung={"Link": f"{links.base}/huge"}),
        "endless": bulletin(NoiDung={"Link": f"{links.base}/endless"}),
        "no_token": bulletin(),
        "bad_level": bulletin(MucDoUuTien=7),
    }.get(case)
    if case == "malformed":
        r = client.post("/province/v1/ban-tin", data=b'{"BanTinId": "BT-9", ', headers=AUTH,
                        content_type="application/json")
    else:
        r = client.post("/province/v1/ban-tin", json=body,
                        headers={} if case == "no_token" else AUTH)
    expected = {"malformed": "JSON", "unknown_area": "99999", "past": "đã qua",
                "not_audio": "không phải tệp âm thanh", "huge": "quá lớn", "endless": "quá lớn",
                "no_token": "xác thực", "bad_level": "MucDoUuTien"}[case]
    assert r.json["TrangThaiGui"] != 0 and expected in r.json["MoTa"], r.json
    assert r.status_code in (400, 401)
    assert _counts(linked) == (0, 0, 0)
    if case == "huge":
        assert links.sent["huge"] < 10_000_000  # refused on Content-Length, not downloaded


def test_the_commune_policy_can_make_emergencies_wait_for_approval(linked, client):
    from controller.province.settings import province_settings

    linked.province.settings = province_settings({
        **linked.settings.province, "policy": [{"priority": [1], "action": "draft"}]})
    when = _at(120)
    r = client.post("/province/v1/ban-tin", headers=AUTH, json=bulletin(
        "BT-KC", MucDoUuTien=1, LichPhat={"ThoiDiemBatDau": [when]}))
    assert r.json["TrangThaiGui"] == 0 and "chờ" in r.json["MoTa"], r.json
    with linked.db.session() as s:
        ann = s.scalar(sa.select(Announcement))
        assert ann.status == "draft"
        assert s.scalar(sa.select(ProvinceBulletin)).state == "waiting"
    runner = ScheduleRunner(linked)
    runner.materialize(utcnow())
    with linked.db.session() as s:
        occ = s.scalar(sa.select(Occurrence))
    assert runner.fire(occ.id, now=occ.due_at).state == "missed"  # nobody approved: it did not air
    with linked.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Broadcast)) == 0
        assert s.get(Occurrence, occ.id).reason_vi  # the log says why it did not air
