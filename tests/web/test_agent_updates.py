"""Staged agent rollouts on the controller: publish, target one hamlet, send signed updates,
record what the agents answer, widen to all, and show it on the fleet page.

The agent side (real processes, real venvs) is tests/speaker_agent/test_updates.py.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from controller.ingest import Ingestor
from controller.models import AuditEvent, Speaker
from controller.services import agent_updates
from controller.services.agent_updates import UpdateError
from controller.update_sender import UpdateSender
from protocol.messages import Ack, SpeakerState, decode_command, utc_now
from protocol.signing import key_id, verify


def make_wheel(folder: Path, version: str, name: str = "commune-radio") -> Path:
    """A minimal wheel with the metadata and package the controller checks."""
    path = folder / f"commune_radio-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"commune_radio-{version}.dist-info/METADATA",
                    f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        zf.writestr("speaker_agent/__init__.py", "")
    return path


def report(ingestor: Ingestor, sid: str, version: str) -> None:
    """The speaker's retained state with its version, through the real ingestor."""
    ingestor.process([(sid, "state", SpeakerState(sid, True, utc_now(), version=version).encode())])


def ack(ingestor: Ingestor, cmd, event: str, detail: str | None = None) -> None:
    """An agent's ack of a command, through the real ingestor."""
    raw = Ack(cmd.id, cmd.speaker_id, event, utc_now(), detail).encode()
    ingestor.process([(cmd.speaker_id, "ack", raw)])


def test_staged_rollout_from_one_hamlet_to_all(seeded, fake_bus, login, tmp_path):
    ctl = seeded
    ingestor = Ingestor(ctl)
    for sid in ("spk-a", "spk-b", "spk-c"):
        report(ingestor, sid, "1.0.0")
    wheel = make_wheel(tmp_path, "1.1.0")
    with ctl.db.session() as s:
        rel = agent_updates.publish(s, ctl.data, wheel, actor="admin")
        agent_updates.set_target(s, "1.1.0", hamlets=["Ấp Mỹ An"], actor="admin")
        sha = rel.sha256
    sender = UpdateSender(ctl, fake_bus, every_s=0)
    assert sender.run_once() == 2 and sender.run_once() == 0  # one command per speaker, once
    cmds = {c.speaker_id: decode_command(c.encode()) for c, _ in fake_bus.published}
    assert sorted(cmds) == ["spk-a", "spk-b"]  # the first hamlet only
    pub = ctl.keys.public_key
    for cmd in cmds.values():
        verify(cmd, {key_id(pub): pub})  # signed with the command key the agents trust
        assert cmd.update.version == "1.1.0" and cmd.update.sha256 == sha
        assert cmd.update.bytes == wheel.stat().st_size
    served = login("viewer").get(urlsplit(cmds["spk-a"].update.url).path)
    assert served.status_code == 200 and served.data == wheel.read_bytes()

    ack(ingestor, cmds["spk-a"], "received")
    ack(ingestor, cmds["spk-a"], "update_installed", "version 1.1.0")
    report(ingestor, "spk-a", "1.1.0")
    ack(ingestor, cmds["spk-b"], "rolled_back", "version 1.1.0 rolled back to 1.0.0: 5 starts")
    with ctl.db.session() as s:
        p = agent_updates.progress(s)
        audits = [(a.action, a.actor) for a in s.query(AuditEvent).filter(AuditEvent.action.like("update%"))]
    assert (p["targeted"], p["done"], p["failed"]) == (2, 1, 1)
    assert ("update_rolled_back", "spk-b") in audits and ("update_installed", "spk-a") in audits

    page = login("admin").get("/fleet").get_data(as_text=True)
    assert "Cập nhật phần mềm loa" in page
    assert "1/2 loa đã chạy đúng phiên bản đích; 1 loa cập nhật lỗi" in page
    assert "Đã quay về bản cũ" in page and "5 starts" in page

    # Then all: the other hamlet's speaker and the retry of the rolled-back one.
    with ctl.db.session() as s:
        agent_updates.set_target(s, "1.1.0", everyone=True, actor="admin")
    assert sender.run_once() == 2
    assert sorted(c.speaker_id for c, _ in fake_bus.published[2:]) == ["spk-b", "spk-c"]


def test_refusals_are_audited_and_bad_wheels_refused(seeded, fake_bus, tmp_path):
    ctl = seeded
    ingestor = Ingestor(ctl)
    report(ingestor, "spk-c", "2.0.0")
    with ctl.db.session() as s:
        agent_updates.publish(s, ctl.data, make_wheel(tmp_path, "1.5.0"))
        agent_updates.set_target(s, "1.5.0", speakers=["spk-c"])
    UpdateSender(ctl, fake_bus, every_s=0).run_once()
    cmd = fake_bus.published[0][0]
    ack(ingestor, cmd, "rejected", "downgrade refused: 1.5.0 is older than the running 2.0.0")
    with ctl.db.session() as s:
        assert s.query(AuditEvent).filter_by(action="update_rejected", actor="spk-c").count() == 1
        assert agent_updates.progress(s)["speakers"]["spk-c"]["state"] == "rejected"

    bad = tmp_path / "bad"
    bad.mkdir()
    with ctl.db.session() as s:
        with pytest.raises(UpdateError, match="not a commune-radio wheel"):
            agent_updates.publish(s, ctl.data, bad.joinpath("x.whl"))
        with pytest.raises(UpdateError, match="metadata says other"):
            agent_updates.publish(s, ctl.data, make_wheel(bad, "1.6.0", name="other"))
        with pytest.raises(UpdateError, match="has not been published"):
            agent_updates.set_target(s, "9.9.9", everyone=True)
        with pytest.raises(UpdateError, match="no hamlet named"):
            agent_updates.set_target(s, "1.5.0", hamlets=["Ấp Không Có"])
    with ctl.db.session() as s:
        assert s.get(Speaker, "spk-c") is not None


def test_cli_publishes_and_targets_a_hamlet(settings, controller, tmp_path):
    from controller.cli import main
    from controller.services import registry

    with controller.db.session() as s:
        registry.add_speaker(s, "spk-1", "Ấp 1")
    wheel = make_wheel(tmp_path, "3.0.0")
    env = {"COMMUNE_RADIO_DATABASE_URL": settings.database_url}
    out = CliRunner().invoke(main, ["update", "publish", str(wheel), "--hamlet", "Ấp 1", "--data",
                                    str(settings.data_dir)], env=env)
    assert out.exit_code == 0, out.output
    assert "published 3.0.0" in out.output and "target 3.0.0 for: hamlet Ấp 1" in out.output
    out = CliRunner().invoke(main, ["update", "target", "3.0.0", "--hamlet", "Ấp 9", "--data",
                                    str(settings.data_dir)], env=env)
    assert out.exit_code == 1 and "no hamlet named 'Ấp 9'" in out.output


def test_admin_publishes_from_the_fleet_page_and_bad_files_are_named(seeded, login, tmp_path):
    from tests.web.conftest import csrf_of, form_token_of

    admin = login("admin")

    def post(**fields):
        page = admin.get("/fleet").get_data(as_text=True)
        data = {"csrf_token": csrf_of(page), "form_token": form_token_of(page), **fields}
        return admin.post("/fleet/updates", data=data, content_type="multipart/form-data",
                          follow_redirects=True).get_data(as_text=True)

    bad = tmp_path / "notes.whl"
    bad.write_bytes(b"not a zip")
    page = post(wheel=(bad.open("rb"), "notes.whl"), scope="Ấp Mỹ An")
    assert "Tệp notes.whl không phải gói cài đặt commune-radio (.whl)." in page
    wheel = make_wheel(tmp_path, "1.4.0")
    page = post(wheel=(wheel.open("rb"), wheel.name), scope="Ấp Mỹ An")
    assert "Phiên bản 1.4.0 sẽ được cài cho: Ấp Mỹ An." in page
    page = post(version="1.4.0", scope="*")
    assert "Phiên bản 1.4.0 sẽ được cài cho: toàn xã." in page
    with seeded.db.session() as s:
        assert agent_updates.targets(s) == {"spk-a": "1.4.0", "spk-b": "1.4.0", "spk-c": "1.4.0"}
    viewer_page = login("viewer").get("/fleet").get_data(as_text=True)
    assert "Đăng và cài đặt" not in viewer_page  # the form is for admins only
