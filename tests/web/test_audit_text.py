"""Every kind of audit event reads as a Vietnamese sentence, with the shapes the services record."""

from __future__ import annotations

import re
from html import unescape

from controller.services import announcements, audit, broadcasts, registry
from tests.web.test_logs import Rendered
from tests.web.test_report import _mp3


def test_every_recorded_action_reads_as_a_sentence(login, seeded):
    from web.ui.audit_text import ACTIONS

    events = [  # (action, actor, target, detail) as the services write them
        ("announcement_created", "editor", "announcement:999", "engine=espeak"),
        ("draft_submitted", "editor", "announcement:999", "when=now priority=normal targets=all"),
        ("announcement_edited", "editor", "announcement:999", "status approved -> draft"),
        ("announcement_approved", "approver", "announcement:999", None),
        ("broadcast_created", "approver", "broadcast:999", "announcement=999 priority=normal speakers=1"),
        ("broadcast_emergency", "approver", "broadcast:999", "announcement=1 priority=emergency speakers=3"),
        ("broadcast_cancelled", "approver", "broadcast:999", None),
        ("request_cancelled", "editor", "request:4", None),
        ("schedule_created", "editor", "schedule:999", "announcement=1 kind=weekly"),
        ("schedule_updated", "editor", "schedule:999", None),
        ("schedule_pause", "editor", "schedule:999", None),
        ("schedule_resume", "editor", "schedule:999", None),
        ("schedule_cancel", "editor", "schedule:999", None),
        ("occurrence_cancelled", "editor", "occurrence:999@2026-12-01T23:00:00Z", None),
        ("occurrence_missed", None, "occurrence:999@2026-12-01T23:00:00Z", "expired: Not played: due …"),
        ("speaker_volume", "admin", "speaker:spk-a", "volume=70 command=abc"),
        ("speaker_stop", "admin", "speaker:spk-a", "command=abc"),
        ("speaker_test_tone", "admin", "speaker:spk-a", "broadcast=3"),
        ("speaker_revoked", "cli", "spk-a", None),
        ("speaker_moved", "cli", "spk-a", "Ấp Mỹ Hòa"),
        ("user_created", "admin", "lan", "role=editor"),
        ("role_changed", "admin", "lan", "viewer -> approver"),
        ("user_enabled", "admin", "lan", None), ("user_disabled", "admin", "lan", None),
        ("password_set", "admin", "lan", None), ("token_created", "lan", "lan", None),
        ("tokens_revoked", "admin", "lan", "2"), ("login", "lan", None, None),
        ("login_failed", "lan", None, "bad password (2/5)"), ("login_failed", None, None, None),
        ("login_refused", "lan", None, "address locked"),
        ("account_locked", "system", "lan", "5 failed logins; locked 15 min"),
        ("account_unlocked", "admin", "lan", None),
        ("abbreviations_replaced", "admin", None, "12 entries"),
        ("signing_key_rotated", "cli", "abcd", None), ("signing_key_retired", "cli", "abcd", None),
        ("ack_forged", "spk-a", "cmd-1", "claimed speaker spk-b"),
        ("command_rejected", "spk-a", "cmd-1", "bad signature"),
        ("something_new", "admin", "x:1", "a=b"),
    ]
    assert {a for a, *_ in events} | {a for a, *_ in LATER_EVENTS} >= set(ACTIONS)
    with seeded.db.session() as s:  # one real announcement and broadcast, so names are looked up
        ann = announcements.create(s, seeded, title="Họp dân", text="Họp dân", source="tts",
                                   rendered=Rendered(_mp3(seeded)), user=None, approved=True)
        b = broadcasts.create(s, announcement=ann, priority="normal", user=None,
                              speakers=[registry.get_speaker(s, "spk-a"), registry.get_speaker(s, "spk-c")])
        s.flush()
        events.append(("broadcast_created", "approver", f"broadcast:{b.id}", "speakers=2"))
    with seeded.db.session() as s:
        for action, actor, target, detail in events:
            audit.record(s, action, actor=actor, target=target, detail=detail)
    r = login("admin").get("/audit")
    assert r.status_code == 200, r.get_data(as_text=True)[-3000:]
    html = r.get_data(as_text=True)
    sentences = [unescape(x) for x in re.findall(r'<td class="sentence">(.*?)</td>', html)]
    assert len(sentences) >= len(events) + 1  # and the accounts made by the fixture, the login
    known = [x for x in sentences if "something_new" not in x]
    assert not [x for x in known if re.search(r"\b[a-z]+_[a-z]+\b|%\(", x)], known
    assert "admin đã đặt âm lượng của Loa A (Ấp Mỹ An) là 70." in sentences
    assert "Đăng nhập không thành công bằng tài khoản lan: sai mật khẩu (2/5)." in sentences
    assert "admin something_new x:1 a=b" in sentences
    assert ("approver đã phát bản tin 'Họp dân' (mức thông thường) tới Ấp Mỹ An, Ấp Mỹ Phú."
            in sentences)  # an unknown action is shown as stored


LATER_EVENTS = [  # streams, alerts, the province and agent updates (a page holds 50 lines)
        ("logout", "lan", None, None), ("areas_changed", "admin", "lan", "[] -> [3]"),
        ("request_submitted", "editor", "announcement:999", "when=schedule"),
        ("live_targets", "admin", "live-1", "hamlets: Ấp 1; speakers: spk-a"),
        ("live_ended", None, "live-1", "reason: browser_gone; duration_s: 40"),
        ("live_opened", "admin", "live-1", None), ("live_stopped", "admin", "live-1", "stopped"),
        ("relay_opened", "admin", "relay-2", None), ("relay_stopped", "admin", "relay-2", "ended"),
        ("relay_started", "admin", "relay:2", "source=1"), ("source_added", "editor", "source:1", None),
        ("hamlet_area_set", "admin", "hamlet:1", "polygon"),
        ("alert_feed_failed", None, "feed:tinh", "timeout"),
        ("alert_feed_recovered", None, "feed:tinh", None),
        ("alert_refused", "cap", "alert:3", "bad xml"), ("alert_emergency", "cap", "alert:4", None),
        ("relay_failed", None, "relay:2", "upstream gone"), ("update_rolled_back", "spk-a", "1.2.3", None),
        ("province_bulletin", "province", "bulletin:B1", None),
        ("province_bulletin_cancelled", "province", "bulletin:B1", None),
        ("province_bulletin_rescheduled", "province", "bulletin:B1", None),
        ("update_published", "admin", "1.2.3", None), ("update_target", "admin", "1.2.3", "hamlet=1"),
        ("update_installed", "spk-a", "1.2.3", None),
]


def test_stream_alert_province_and_update_actions_read_as_sentences(login, seeded):
    with seeded.db.session() as s:
        for action, actor, target, detail in LATER_EVENTS:
            audit.record(s, action, actor=actor, target=target, detail=detail)
    html = login("admin").get("/audit").get_data(as_text=True)
    sentences = [unescape(x) for x in re.findall(r'<td class="sentence">(.*?)</td>', html)]
    assert len(sentences) >= len(LATER_EVENTS)
    assert not [x for x in sentences if re.search(r"\b[a-z]+_[a-z]+\b|%\(", x)], sentences
    assert "Loa spk-a đã chạy phiên bản phần mềm 1.2.3." in sentences
    assert "admin đã bắt đầu phát trực tiếp (live-1)." in sentences
