"""gTTS adapter: Google's online voice, with a timeout, retries and an atomic write."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import requests
from gtts import gTTS, gTTSError

from audio.engines.base import EngineError, part_path, publish

log = logging.getLogger(__name__)


class GttsEngine:
    """Google Translate's TTS via gTTS (lang "vi")."""

    name = "gtts"
    suffix = ".mp3"

    def __init__(
        self,
        timeout: float,
        retries: int,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.backoff_s = backoff_s
        self._sleep = sleep

    def synthesize(self, text: str, out_path: Path) -> None:
        """Fetch speech from Google, retrying with exponential backoff."""
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                self._once(text, out_path)
                return
            except (gTTSError, requests.RequestException, EngineError) as exc:
                last = exc
                log.warning("gTTS attempt %d/%d failed: %s", attempt + 1, self.retries + 1, exc)
        raise EngineError(f"gTTS failed after {self.retries + 1} attempts: {last}")

    def _once(self, text: str, out_path: Path) -> None:
        # gTTS's default timeout is None (wait forever). lang_check=False because the
        # check is only a table lookup we do not need, and "vi" is known to be there.
        # gTTS splits text over 100 characters into several requests itself.
        tts = gTTS(text, lang="vi", lang_check=False, timeout=self.timeout)
        tmp = part_path(out_path)
        try:
            # gTTS.save() opens the target first and leaves a 0-byte file behind when the
            # request fails, so write to a temp file and rename only complete audio.
            with open(tmp, "wb") as fp:
                tts.write_to_fp(fp)
            publish(tmp, out_path, self.name)
        finally:
            tmp.unlink(missing_ok=True)
