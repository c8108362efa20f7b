"""Stub gTTS's HTTP layer with the `responses` library, in Google's real batchexecute format."""

from __future__ import annotations

import base64
import json
import re

import requests
import responses

# gTTS posts every text chunk to this endpoint (any translate.google.<tld>).
GTTS_URL = re.compile(r"https://translate\.google\.[a-z.]+/_/TranslateWebserverUi/data/batchexecute")


def batchexecute_body(mp3_bytes: bytes) -> str:
    """A batchexecute response carrying mp3_bytes, as Google sends it.

    The JSON must be compact: gTTS finds the audio with the regex
    `jQ1olc","\\[\\\\"(.*)\\\\"]`, which a space after a separator would break.
    """
    inner = json.dumps([base64.b64encode(mp3_bytes).decode("ascii")], separators=(",", ":"))
    envelope = json.dumps([["wrb.fr", "jQ1olc", inner, None, None, None, "generic"]], separators=(",", ":"))
    return ")]}'\n\n" + str(len(envelope)) + "\n" + envelope + "\n"


def stub_gtts(rsps: responses.RequestsMock, mp3_bytes: bytes) -> None:
    """Make every gTTS request succeed with mp3_bytes."""
    rsps.add(responses.POST, GTTS_URL, body=batchexecute_body(mp3_bytes), status=200)


def stub_gtts_error(rsps: responses.RequestsMock, status: int = 500) -> None:
    """Make every gTTS request fail with an HTTP error status."""
    rsps.add(responses.POST, GTTS_URL, body="Internal Server Error", status=status)


def stub_gtts_timeout(rsps: responses.RequestsMock) -> None:
    """Make every gTTS request fail as if Google never answered the connection."""
    rsps.add(responses.POST, GTTS_URL, body=requests.exceptions.ConnectTimeout("stubbed: connect timed out"))


def gtts_calls(rsps: responses.RequestsMock) -> list:
    """The requests gTTS made to the stubbed endpoint."""
    return [c for c in rsps.calls if GTTS_URL.match(c.request.url)]
