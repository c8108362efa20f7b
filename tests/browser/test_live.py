"""Phát trực tiếp in Chromium with a fake microphone playing a chirp file: press the big
button, and a listener on the session's Icecast mount hears the chirps, and so does the
hamlet's speaker (a real agent recording into its WAV sink); press stop, and the session ends
on the speaker too. The controller runs in process against the session's open Icecast, with
a real Mosquitto between it and the agent."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, login
from tests.support.agent_proc import AgentProcess
from tests.support.broker import TestBroker
from tests.support.controller import fresh_db_url
from tests.support.live_audio import SR, Ear, chirp_train, find_chirps
from tests.support.live_server import serve
from tests.support.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.process]
HAMLET = "Ấp Mỹ Lợi"
# Like test_z_screenshots: test-results/ during a test run (the checkout stays clean);
# `make screenshots` points COMMUNE_RADIO_SCREENSHOTS at docs/screenshots.
SHOTS = Path(__file__).resolve().parents[2] / os.environ.get("COMMUNE_RADIO_SCREENSHOTS",
                                                             "test-results/screenshots")


@pytest.fixture(scope="module")
def chirp_wav(tmp_path_factory):
    """Three seconds with chirps; Chromium's fake microphone loops it."""
    pcm, _ = chirp_train(seconds=3, period=0.8, lead=0.3)
    path = tmp_path_factory.mktemp("mic") / "chirps.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())
    return path


@pytest.fixture(scope="module")
def chirp_browser(playwright, chirp_wav):
    """Chromium whose microphone plays the chirp file, with no permission prompt."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={chirp_wav}"])
    yield b
    b.close()


@pytest.fixture(scope="module")
def live_broker(tmp_path_factory):
    """The module's Mosquitto, between the controller and the hamlet's speaker."""
    b = TestBroker(tmp_path_factory.mktemp("broker")).start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, icecast, live_broker):
    """One in-process controller for this module (the first test's sessions are 1 and 2)."""
    tmp_path = tmp_path_factory.mktemp("live-server")
    b = live_broker
    srv = serve(tmp_path, icecast, {HAMLET: ["spk-my-loi"]}, {"approver": "approver"},
                db_url=fresh_db_url(tmp_path),
                broker_url=f"mqtt://controller:{b.controller_password}@127.0.0.1:{b.controller_port}")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def speaker(tmp_path_factory, live_server, live_broker):
    """The hamlet's speaker: a real agent, online, recording what it plays into WAV files."""
    agent = AgentProcess(tmp_path_factory.mktemp("agents"), "spk-my-loi", live_broker,
                         live_server.controller.keys.public_keys_text()).start()
    from controller.services import registry

    def online() -> bool:
        with live_server.controller.db.session() as s:
            return registry.get_speaker(s, "spk-my-loi").online

    wait_for(online, timeout=60, what="the speaker online")
    yield agent
    agent.stop()


def sink_samples(path: Path) -> tuple[np.ndarray, int]:
    """(float samples, rate) of a sink WAV still being written (its header sizes are not final)."""
    with wave.open(str(path)) as w:
        rate = w.getframerate()
    raw = path.read_bytes()[44:]
    return np.frombuffer(raw[:len(raw) // 2 * 2], dtype="<i2").astype(float) / 32768, rate


def chirps_in_sink(agent, session_id: str) -> int:
    """How many chirps the speaker recorded for a session, over all its connections."""
    total = 0
    for wav in agent.stream_wavs(session_id):
        if wav.stat().st_size > 44:
            x, rate = sink_samples(wav)
            total += len(find_chirps(x, sr=rate))
    return total


def test_speaking_from_a_phone_reaches_the_speaker_and_stop_ends_it(chirp_browser, live_server,
                                                                     icecast, speaker):
    ctx = chirp_browser.new_context(viewport=PHONE, locale="vi-VN", permissions=["microphone"])
    page = ctx.new_page()
    login(page, live_server.base, "approver")
    page.goto(live_server.base + "/live")
    page.get_by_label(HAMLET).check()
    page.get_by_role("button", name="Bắt đầu phát").click()
    page.get_by_role("button", name="Dừng").wait_for()
    assert page.locator("#live-status").inner_text() == "Đang phát"
    mount = "/live-1"
    icecast.wait_mount(mount)
    ear = Ear(icecast.listen_url(mount)).start()
    try:
        wait_for(lambda: len(find_chirps(ear.samples()[0])) >= 2, timeout=30,
                 what="the chirps of the fake microphone on the mount")
    finally:
        ear.stop()
    # the hamlet's horn speaks them too
    wait_for(lambda: chirps_in_sink(speaker, "live-1") >= 2, timeout=30,
             what="the chirps in the speaker's sink")
    assert page.locator("#live-timer").inner_text() != "00:00"
    # the level meter moves with the voice
    wait_for(lambda: page.locator("#live-level").evaluate("el => parseFloat(el.style.width) || 0") > 10,
             timeout=10, what="the level meter to move")
    page.screenshot(path=str(SHOTS / "live-phone.png"), full_page=True)
    page.get_by_role("button", name="Dừng").click()
    page.get_by_role("button", name="Bắt đầu phát").wait_for()
    from controller.services import live

    wait_for(lambda: live.view(live_server.controller, 1)["state"] == "ended", timeout=20,
             what="the session to end")
    assert live.view(live_server.controller, 1)["end_reason"] == "stopped"
    # the speaker stopped too, and said so in the delivery log
    (d,) = wait_for(lambda: [d for d in live.view(live_server.controller, 1)["deliveries"]
                             if "stream_stopped" in [e["event"] for e in d["events"]]],
                    timeout=20, what="the speaker's stream_stopped in the log")
    assert d["speaker_id"] == "spk-my-loi" and d["aired_s"] > 0
    (stopped,) = [e for e in d["events"] if e["event"] == "stream_stopped"]
    assert stopped["source"] == "agent" and stopped["detail"].startswith("stopped: by command")
    # ... with nothing in between: the stop reached it before the mount went away
    said = [e["event"] for e in d["events"] if e["source"] == "agent"]
    last_playing = len(said) - 1 - said[::-1].index("stream_playing")
    assert "stream_stalled" not in said[last_playing:], d["events"]

    # a studio encoder instead: the page shows the credentials it needs
    page.get_by_label("Bàn trộn hoặc máy tính phòng thu (BUTT, ffmpeg)").check()
    page.get_by_role("button", name="Bắt đầu phát").click()
    page.locator("#live-encoder").wait_for(state="visible")
    assert page.locator("#enc-mount").inner_text() == "/live-2"
    assert page.locator("#enc-password").inner_text()
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SHOTS / "live-desktop.png"), full_page=True)
    # the controller ends it (another leader pressed stop): the page says so in Vietnamese
    live.stop_live(live_server.controller, 2, user=None, reason="stopped")
    page.get_by_text("Máy chủ đã kết thúc phiên phát trực tiếp.").wait_for()
    page.get_by_role("button", name="Bắt đầu phát").wait_for()
    ctx.close()


def test_a_refused_microphone_is_explained_and_nothing_goes_live(playwright, live_server):
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + [
        "--use-fake-device-for-media-stream"])  # no fake UI: nobody allows the microphone
    try:
        page = b.new_context(viewport=PHONE, locale="vi-VN").new_page()
        login(page, live_server.base, "approver")
        page.goto(live_server.base + "/live")
        page.get_by_role("button", name="Bắt đầu phát").click()
        page.get_by_text("Vui lòng chọn ít nhất một ấp hoặc một loa.").wait_for()  # no target yet
        page.get_by_label(HAMLET).check()
        page.get_by_role("button", name="Bắt đầu phát").click()
        page.get_by_text("Trình duyệt chưa được phép dùng micro", exact=False).wait_for()
        from controller.services import live

        assert live.watch(live_server.controller).active() == []
    finally:
        b.close()
