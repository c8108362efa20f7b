"""Join a stream at the live point: drop what queued up before the decoder was ready, at whole units.

Icecast sends a new listener audio from the moment it connects (burst-size 0), but ffmpeg
takes a while to start (a few hundred ms, seconds on a loaded Pi). What arrived meanwhile
used to be decoded at once, and a loudspeaker playing at real time then stayed that far
behind the live point for the whole connection. `LiveJoin` sits between the connection and
the decoder: while the decoder is not ready it keeps only what the decoder needs to start
(an Ogg stream's header pages) and drops the audio; once it is ready it starts the decoder at
the first whole unit (an Ogg page that begins a packet, an MP3 or ADTS frame whose next frame
header confirms it), so the decoder is never fed a torn frame. Unknown containers are not
cut: everything is kept, as before.

Seen with Icecast 2.4 and ffmpeg 5.1 (DESIGN): Icecast hands an MP3 listener its stream in
1400-byte blocks (its queue block; 0.35 s at 32 kbps) that do not start at a frame, so a
new MP3 listener always starts mid-frame, and the first audio comes with the next block
after the decoder is ready: a later start, never a later live point. Opus in Ogg comes a
page at a time, header pages first. Under load ffmpeg took 0.4 to 0.7 s to open its input,
which was the backlog a player used to keep.
"""

from __future__ import annotations

# MPEG audio bitrates (kbps) by (MPEG-1?, layer) and index; 0 is "free format" (not cut on).
_MP3_KBPS = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_OGG_HEADER = 27


def mp3_frame(buf: bytes | bytearray, i: int) -> tuple[int, int] | None:
    """(length, kind) of the MPEG audio frame whose header starts at `i`, or None if none does."""
    if i + 4 > len(buf) or buf[i] != 0xFF or buf[i + 1] & 0xE0 != 0xE0:
        return None
    version, layer = (buf[i + 1] >> 3) & 3, 4 - ((buf[i + 1] >> 1) & 3)
    index, rate_index, pad = buf[i + 2] >> 4, (buf[i + 2] >> 2) & 3, (buf[i + 2] >> 1) & 1
    if version == 1 or layer == 4 or index in (0, 15) or rate_index == 3:
        return None
    bitrate = _MP3_KBPS[(version == 3, layer)][index] * 1000
    rate = _MP3_RATES[version][rate_index]
    if layer == 1:
        length = (12 * bitrate // rate + pad) * 4
    else:
        length = (144 if layer == 2 or version == 3 else 72) * bitrate // rate + pad
    return length, buf[i + 1] & 0xFE | (rate_index << 8)


def adts_frame(buf: bytes | bytearray, i: int) -> tuple[int, int] | None:
    """(length, kind) of the ADTS (AAC) frame whose header starts at `i`, or None if none does."""
    if i + 7 > len(buf) or buf[i] != 0xFF or buf[i + 1] & 0xF6 != 0xF0 or (buf[i + 2] >> 2) & 0xF > 12:
        return None
    length = ((buf[i + 3] & 3) << 11) | (buf[i + 4] << 3) | (buf[i + 5] >> 5)
    return (length, buf[i + 2] & 0xFC) if length >= 7 else None


def ogg_page(buf: bytes | bytearray, i: int) -> int | None:
    """Length of the Ogg page starting at `i`: 0 if it is not all here yet, None if no page starts there."""
    if buf[i:i + 4] != b"OggS"[:len(buf) - i] or (len(buf) - i > 4 and buf[i + 4] != 0):
        return None
    if len(buf) - i < _OGG_HEADER or len(buf) - i < _OGG_HEADER + buf[i + 26]:
        return 0
    segments = buf[i + 26]
    length = _OGG_HEADER + segments + sum(buf[i + _OGG_HEADER:i + _OGG_HEADER + segments])
    return length if len(buf) - i >= length else 0


def _is_ogg_header(page: bytes | bytearray) -> bool:
    """A page the decoder needs before any audio: the first of a stream, or one before any audio.

    Opus, Vorbis and FLAC in Ogg put their header packets on pages with granule position 0.
    """
    return bool(page[5] & 0x02) or page[6:14] == bytes(8)


class LiveJoin:
    """Bytes from a connection in, bytes for a decoder out: audio from before `ready()` is dropped."""

    def __init__(self, fmt: str | None):
        self.fmt = fmt if fmt in ("ogg", "mp3", "aac") else None
        self._buf = bytearray()
        self._headers = bytearray()  # Ogg header pages, kept for the decoder
        self._ready = False
        self._joined = False
        self.dropped = 0
        """Bytes of audio dropped (what a late decoder would have played behind the live point)."""

    def ready(self) -> None:
        """The decoder is reading now: from here on the stream is live."""
        self._ready = True
        if self.fmt in ("mp3", "aac"):  # no headers to keep: resync on what comes next
            self.dropped += len(self._buf)
            self._buf.clear()

    def feed(self, chunk: bytes) -> bytes:
        """What of `chunk` (and what was held before it) the decoder should get now."""
        if self._joined:
            return chunk
        self._buf += chunk
        if self.fmt is None:
            if not self._ready:
                return b""
            self._joined = True
            return self._take(len(self._buf))
        if self.fmt == "ogg":
            return self._feed_ogg()
        return self._feed_frames(mp3_frame if self.fmt == "mp3" else adts_frame)

    def _take(self, n: int) -> bytes:
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _drop(self, n: int) -> None:
        self.dropped += n
        del self._buf[:n]

    def _feed_ogg(self) -> bytes:
        while self._buf:
            length = ogg_page(self._buf, 0)
            if length is None:  # not at a page: skip to the next capture pattern
                at = self._buf.find(b"OggS", 1)
                self._drop(at if at > 0 else max(1, len(self._buf) - 3))
                continue
            if length == 0:
                return b""
            page = self._buf[:length]
            if _is_ogg_header(page):
                self._headers += self._take(length)
            elif self._ready and not page[5] & 0x01:  # a page that starts a packet: join here
                self._joined = True
                out = bytes(self._headers) + self._take(len(self._buf))
                self._headers.clear()
                return out
            else:
                self._drop(length)
        return b""

    def _feed_frames(self, frame) -> bytes:
        if not self._ready:  # keep only enough to find a frame in; the rest is old audio
            if len(self._buf) > 4096:
                self._drop(len(self._buf) - 4096)
            return b""
        i = 0
        while i + 7 <= len(self._buf):
            head = frame(self._buf, i)
            if head:
                length, kind = head
                if i + length + 7 > len(self._buf):
                    break  # wait for the next header to confirm this one
                after = frame(self._buf, i + length)
                if after and after[1] == kind:
                    self._drop(i)
                    self._joined = True
                    return self._take(len(self._buf))
            i += 1
        self._drop(i)
        return b""
