"""Upward records: written with their cause, sent in order, never lost and never doubled."""

from __future__ import annotations

import jsonschema
import pytest
import sqlalchemy as sa

from controller.ingest import Ingestor
from controller.models import utcnow
from controller.province.client import ProvinceError
from controller.province.models import ProvinceRecord
from protocol.messages import SpeakerState
from tests.province.conftest import make_deliveries
from tests.province.schemas import AIRED_LOG, DEVICE_STATUS


def _unsent(ctl) -> int:
    with ctl.db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(ProvinceRecord)
                        .where(ProvinceRecord.sent_at.is_(None)))


def _state(ctl, sid: str, **fields) -> None:
    st = SpeakerState(speaker_id=sid, online=True, at=utcnow(), **fields)
    Ingestor(ctl).process([(sid, "state", st.encode())])


def test_every_upward_message_matches_its_schema(linked, province, tmp_path):
    _state(linked, "spk-a", version="1.4.0", volume=80, cpu_temp_c=51.5)
    _state(linked, "spk-a", version="1.4.0", volume=80, cpu_temp_c=52.0)  # no change the province sees
    _state(linked, "spk-c", volume=60)  # a speaker with no CumLoaId mapped goes under its own id
    make_deliveries(linked, 4, tmp_path)
    linked.province.sender.heartbeat_if_due(force=True)
    assert linked.province.sender.run_once() == 2 + 4 + 3
    mock = province.mock
    assert len(mock.status) == 5 and len(mock.aired) == 4
    for msg in mock.status.values():
        jsonschema.validate(msg, DEVICE_STATUS)
    for msg in mock.aired.values():
        jsonschema.validate(msg, AIRED_LOG)
    first = next(m for m in mock.status.values() if m["CumLoaId"] == "CL-0001")
    assert (first["CumLoaId"], first["AmLuong"], first["PhienBanUngDung"], first["NguonId"]) == (
        "CL-0001", 80, "1.4.0", "NGUON-XA-TEST")
    assert {m["CumLoaId"] for m in mock.status.values()} == {"CL-0001", "CL-0002", "spk-c"}
    played = [m for m in mock.aired.values() if m["GiaTri"] == 1]
    assert played and all(m["ThoiLuong"] == "00:01:15" for m in played)
    assert {m["MucDoUuTien"] for m in mock.aired.values()} == {2}


def test_nothing_is_written_when_the_link_is_off(controller, tmp_path):
    from controller.services import registry

    with controller.db.session() as s:
        registry.add_speaker(s, "spk-a", "Ấp Mỹ An")
        registry.add_speaker(s, "spk-b", "Ấp Mỹ Hòa")
    _state(controller, "spk-a", volume=50)
    make_deliveries(controller, 3, tmp_path)
    assert controller.province is None
    assert _unsent(controller) == 0


def test_province_down_during_200_deliveries_then_back(linked, province, tmp_path):
    mock = province.mock
    mock.faults.down = True
    make_deliveries(linked, 200, tmp_path)
    sender = linked.province.sender
    with pytest.raises(ProvinceError):
        sender.run_once()
    assert _unsent(linked) == 200 and sender.status()["state"] == "down"
    mock.faults.down = False
    mock.faults.fail_next = 3  # it comes back shakily: a few more 500s mid-stream
    for _ in range(5):
        try:
            sender.run_once()
            break
        except ProvinceError:
            continue
    assert _unsent(linked) == 0
    with linked.db.session() as s:
        rows = s.execute(sa.select(ProvinceRecord.speaker_id, ProvinceRecord.record_key)
                         .order_by(ProvinceRecord.id)).all()
    received = [k for _, k in mock.order]
    assert sorted(received) == sorted(k for _, k in rows) and len(set(received)) == 200
    for spk in ("spk-a", "spk-b"):  # in order per speaker (speakers go in parallel lanes)
        mine = [k for sid, k in rows if sid == spk]
        assert [k for k in received if k in set(mine)] == mine
    assert sender.status()["state"] == "ok"


def test_token_expiring_mid_stream_is_renewed(linked, province, tmp_path):
    mock = province.mock
    make_deliveries(linked, 40, tmp_path)
    sender = linked.province.sender
    sender.run_once()
    make_deliveries(linked, 40, tmp_path)
    mock.expire_tokens()  # the province forgets the token before the commune thinks it expired
    assert sender.run_once() == 40
    assert mock.logins == 2 and 1 <= mock.unauthorized <= linked.province.settings.lanes
    assert len(mock.aired) == 80 and mock.duplicates == 0


def test_a_record_sent_twice_is_kept_once_by_its_id(linked, province, tmp_path):
    make_deliveries(linked, 5, tmp_path)
    sender = linked.province.sender
    sender.run_once()
    with linked.db.session() as s:  # as if the controller died between the answer and the mark
        s.execute(sa.update(ProvinceRecord).values(sent_at=None))
    sender.run_once()
    assert len(province.mock.aired) == 5 and province.mock.duplicates == 5


def test_a_province_that_does_not_answer_in_time_is_retried_later(linked, province, tmp_path):
    import dataclasses

    sender = linked.province.sender
    sender.client.settings = dataclasses.replace(sender.client.settings, timeout_s=0.5)
    make_deliveries(linked, 3, tmp_path)
    province.mock.faults.slow_s = 1.5  # slower than the commune waits
    with pytest.raises(ProvinceError, match="Timeout"):
        sender.run_once()
    assert _unsent(linked) == 3 and "Timeout" in sender.status()["last_error"]
    province.mock.faults.slow_s = 0
    assert sender.run_once() == 3 and len(province.mock.aired) == 3
