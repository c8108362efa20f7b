"""The outbox across a crash: `commune-radio serve` killed -9 while sending, then started again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from controller.config import load
from controller.province.models import ProvinceRecord
from controller.province.sender import MARK_EVERY
from controller.runtime import Controller
from controller.services import registry
from tests.province.conftest import MAPPING, TOKEN, make_deliveries
from tests.support.controller import fresh_db_url
from tests.support.mock_province import PASSWORD, USERNAME
from tests.support.processes import BIN, Proc, free_port, wait_for

pytestmark = pytest.mark.process
RECORDS = 300


def _keys(db_url: str) -> tuple[list[str], int]:
    engine = sa.create_engine(db_url)
    with engine.connect() as c:
        keys = list(c.execute(sa.select(ProvinceRecord.record_key).order_by(ProvinceRecord.id)).scalars())
        unsent = c.execute(sa.select(sa.func.count()).select_from(ProvinceRecord)
                           .where(ProvinceRecord.sent_at.is_(None))).scalar()
    engine.dispose()
    return keys, unsent


def test_kill_9_while_sending_loses_nothing_and_doubles_nothing(tmp_path, broker, province):
    data = tmp_path / "data"
    data.mkdir()
    db_url = fresh_db_url(tmp_path)
    broker_url = f"mqtt://controller:{broker.controller_password}@127.0.0.1:{broker.port}"
    (data / "province.toml").write_text(MAPPING, encoding="utf-8")
    (data / "config.toml").write_text(
        f'database_url = "{db_url}"\nbroker_url = "{broker_url}"\ntts_engines = ["espeak"]\n'
        f'[province]\nenabled = true\nbase_url = "{province.url}"\nusername = "{USERNAME}"\n'
        f'password = "{PASSWORD}"\ninbound_token = "{TOKEN}"\n', encoding="utf-8")
    ctl = Controller(load(data))
    with ctl.db.session() as s:
        registry.add_speaker(s, "spk-a", "Ấp Mỹ An")
        registry.add_speaker(s, "spk-b", "Ấp Mỹ Hòa")
    make_deliveries(ctl, RECORDS, tmp_path)  # records written with their causes, before any send
    ctl.db.dispose()
    mock = province.mock
    mock.faults.slow_s = 0.02  # slow enough to be killed in the middle

    def serve() -> Proc:
        return Proc([str(BIN / "commune-radio"), "serve", "--data", str(data), "--port",
                     str(free_port())], tmp_path / "controller.log").start()

    proc = serve()
    try:
        wait_for(lambda: len(mock.aired) >= 50, timeout=90, what="the first records at the province")
        proc.kill9()
        _, unsent = _keys(db_url)
        assert unsent > 0, "everything was sent before the kill; the test proves nothing"
        mock.faults.slow_s = 0
        proc = serve()
        wait_for(lambda: _keys(db_url)[1] == 0, timeout=90, what="the outbox emptied after restart")
    finally:
        proc.stop()
    keys, _ = _keys(db_url)
    received = [k for _, k in mock.order]
    assert sorted(received) == sorted(keys) and len(received) == len(set(received))
    assert len(mock.aired) == RECORDS
    # Sent again after the kill: at most the records not yet marked sent (per lane), which the
    # province keeps once by their id.
    assert mock.duplicates <= MARK_EVERY * 4
