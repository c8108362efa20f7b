"""Players behind one interface: the ALSA command for the Pi and a file sink for tests and the demo.

Both run a child process and block until it ends; `interrupt()` from another
thread ends it early (preemption, stop). The only module that runs ffmpeg or
the ALSA player.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from speaker_agent.config import PlayerSettings


@dataclass(frozen=True)
class PlayResult:
    """How a playback ended: `completed`, `interrupted` or `failed` (with a reason)."""

    outcome: str
    reason: str | None = None
    returncode: int | None = None


class Player:
    """Base: run one playback process at a time, interruptibly."""

    name = "player"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._interrupted = False

    def argv(self, path: Path, command_id: str, volume: int) -> list[str]:
        """The command line that plays `path`."""
        raise NotImplementedError

    def play(self, path: Path, command_id: str, volume: int) -> PlayResult:
        """Play `path` to the end (blocking) unless interrupted."""
        with self._lock:
            self._interrupted = False
            self._proc = subprocess.Popen(
                self.argv(path, command_id, volume),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
            proc = self._proc
        _, err = proc.communicate()
        with self._lock:
            self._proc = None
            interrupted = self._interrupted
        if interrupted:
            return PlayResult("interrupted")
        if proc.returncode in (-signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP):
            # Killed by a stop signal (a shutdown signals the whole process group): the
            # audio was not at fault, so this is an interruption, not a failed play.
            return PlayResult("interrupted", f"{self.name} got signal {-proc.returncode}",
                              proc.returncode)
        if proc.returncode != 0:
            tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            return PlayResult("failed", f"{self.name} exited with {proc.returncode}: {tail[0][:200]}",
                              proc.returncode)
        return PlayResult("completed")

    def interrupt(self) -> bool:
        """Stop the current playback; True if something was playing."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                return False
            self._interrupted = True
            # ffmpeg finishes the WAV header on SIGTERM, so a preempted sink file stays readable.
            self._proc.terminate()
            return True

    def check(self) -> str:
        """Raise RuntimeError unless the backend can run here; a plain-words description otherwise."""
        raise NotImplementedError


class AlsaPlayer(Player):
    """Runs the configured command (mpg123, aplay, ffplay …); the mixer sets the volume."""

    name = "alsa player"

    def __init__(self, command: tuple[str, ...]):
        super().__init__()
        self.command = command

    def argv(self, path: Path, command_id: str, volume: int) -> list[str]:
        """The configured command with {file} replaced."""
        return [str(path) if part == "{file}" else part for part in self.command]

    def check(self) -> str:
        """The player binary exists and ALSA sees a sound card."""
        import shutil

        if not shutil.which(self.command[0]):
            raise RuntimeError(f"player program {self.command[0]!r} is not installed")
        cards = Path("/proc/asound/cards")
        text = cards.read_text() if cards.exists() else ""
        if not text.strip() or "no soundcards" in text:
            raise RuntimeError("no ALSA sound card found (/proc/asound/cards)")
        return f"{self.command[0]} found; sound card: {text.strip().splitlines()[0].strip()}"


class FileSinkPlayer(Player):
    """Decodes the audio with ffmpeg into <sink_dir>/<command_id>.wav, paced at real time.

    `-re` makes ffmpeg read at the audio's own speed, so playing takes as long as
    on a loudspeaker and preemption, stop and start skew behave as they would on
    air. Each playback is also noted in <command_id>.json (start, end, outcome,
    volume), which is what tests read to count plays.
    """

    name = "ffmpeg"

    def __init__(self, sink_dir: Path):
        super().__init__()
        self.sink_dir = Path(sink_dir)

    def argv(self, path: Path, command_id: str, volume: int) -> list[str]:
        """ffmpeg decoding to WAV with the volume applied as a gain filter."""
        return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re", "-i", str(path),
                "-af", f"volume={volume / 100:.2f}", "-y", str(self.sink_dir / f"{command_id}.wav")]

    def play(self, path: Path, command_id: str, volume: int) -> PlayResult:
        """Decode in real time and note the playback in the sidecar JSON."""
        self.sink_dir.mkdir(parents=True, exist_ok=True)
        started = time.time()
        result = super().play(path, command_id, volume)
        sidecar = self.sink_dir / f"{command_id}.json"
        record = json.loads(sidecar.read_text()) if sidecar.exists() else {"plays": []}
        record["plays"].append({"started_at": started, "ended_at": time.time(), "volume": volume,
                                "outcome": result.outcome, "reason": result.reason})
        tmp = sidecar.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record))
        tmp.replace(sidecar)
        return result

    def check(self) -> str:
        """ffmpeg exists and the sink folder is writable."""
        import shutil

        if not shutil.which("ffmpeg"):
            raise RuntimeError("ffmpeg is not installed (apt-get install ffmpeg)")
        self.sink_dir.mkdir(parents=True, exist_ok=True)
        probe = self.sink_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
        return f"ffmpeg found; audio is written to {self.sink_dir}"


def make_player(settings: PlayerSettings) -> Player:
    """The backend named in the config."""
    if settings.backend == "alsa":
        return AlsaPlayer(settings.command)
    return FileSinkPlayer(Path(settings.sink_dir))
