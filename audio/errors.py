"""The one exception the audio package raises for problems a user must hear about."""

from __future__ import annotations

CODES = ("empty", "not_audio", "truncated", "too_large", "too_long", "tts_failed", "decode_timeout")


class AudioError(Exception):
    """A rejected upload or failed synthesis; `code` is stable, the message is English for logs."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown AudioError code {code!r}")
        super().__init__(message)
        self.code = code

    def __reduce__(self):
        # Renders run in worker processes (controller/render_pool.py): the error must cross
        # back intact; the default pickling would call AudioError(message) and fail.
        return (AudioError, (self.code, str(self)))
