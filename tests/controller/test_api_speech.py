"""Preview before airing, and the commune's own abbreviation dictionary."""

from __future__ import annotations


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_preview_shows_spoken_text_and_serves_playable_audio(client, token_for):
    r = client.post("/api/v1/preview", json={"text": "UBND xã họp lúc 7h30 ngày 02/12."},
                    headers=auth(token_for("editor")))
    assert r.status_code == 200, r.json
    assert "Ủy ban nhân dân" in r.json["spoken_text"]
    assert "bảy giờ ba mươi" in r.json["spoken_text"]
    assert r.json["engine"] == "espeak" and r.json["duration_ms"] > 1000
    audio = client.get(r.json["audio_url"])
    assert audio.status_code == 200 and audio.mimetype == "audio/mpeg"
    assert len(audio.data) > 1000
    # The same text again is served from the cache.
    again = client.post("/api/v1/preview", json={"text": "UBND xã họp lúc 7h30 ngày 02/12."},
                        headers=auth(token_for("approver")))
    assert again.json["cached"] is True and again.json["audio_url"].split("?")[0] == \
        r.json["audio_url"].split("?")[0]


def test_preview_rejects_empty_text_and_viewers(client, token_for):
    r = client.post("/api/v1/preview", json={"text": " "}, headers=auth(token_for("editor")))
    assert r.status_code == 400 and "empty" in r.json["message"]
    r = client.post("/api/v1/preview", json={"text": "a"}, headers=auth(token_for("viewer")))
    assert r.status_code == 403


def test_admin_edits_the_abbreviation_dictionary_and_speech_follows(client, token_for):
    admin = token_for("admin")
    r = client.get("/api/v1/abbreviations", headers=auth(admin))
    assert r.json["source"] == "default" and "UBND" in r.json["abbreviations"]
    entries = dict(r.json["abbreviations"], **{"HTX": "hợp tác xã"})
    r = client.put("/api/v1/abbreviations", json={"abbreviations": entries}, headers=auth(admin))
    assert r.status_code == 200
    r = client.post("/api/v1/preview", json={"text": "HTX Mỹ An họp."}, headers=auth(admin))
    assert "hợp tác xã" in r.json["spoken_text"]
    assert client.get("/api/v1/abbreviations", headers=auth(admin)).json["source"] == "custom"


def test_bad_dictionary_is_refused_and_nothing_changes(client, token_for):
    admin = token_for("admin")
    r = client.put("/api/v1/abbreviations", json={"abbreviations": {"X": ""}}, headers=auth(admin))
    assert r.status_code == 400 and "non-empty" in r.json["message"]
    assert client.get("/api/v1/abbreviations", headers=auth(admin)).json["source"] == "default"
    r = client.put("/api/v1/abbreviations", json={"abbreviations": {"X": "x"}},
                   headers=auth(token_for("editor")))
    assert r.status_code == 403
