"""Speech is made on a small pool of worker processes, never in a web request thread.

Why processes: mastering runs numpy/scipy in Python, and a render inside one of waitress's
request threads held the GIL against every page and API read on a 2-core controller (reads
timed out at 30 s while a send-now rendered; docs/benchmarks.md "Web load"). A worker
process has its own interpreter and GIL, so the web keeps its own.

DESIGN notes (read before changing the pool):

- Bounded: WORKERS processes for ordinary speech plus URGENT_WORKERS kept for emergencies
  (an emergency must not queue behind sends: the executors are FIFO), started with `spawn`,
  never `fork`. The controller is multithreaded (paho's loop, the dispatcher, waitress,
  APScheduler): a forked child inherits locks held by threads that do not exist in it
  (logging, SQLAlchemy's pool, paho) and can hang on the first one. `spawn` starts a clean
  interpreter that imports only what the job needs (audio.render); the warm-up at start()
  pays that import and a first render once for the emergency worker, not on the first
  emergency. Ordinary workers start on their first job.
- No database in the children. SQLAlchemy engines and their pooled connections must never
  cross a process boundary (a forked connection shared by two processes corrupts the
  protocol stream; under spawn the engine would be a second one per worker). A worker takes
  plain values (text, settings dataclasses, the cache folder) and returns audio.cache.Rendered;
  every database write happens in this process (controller/services/rendering.py).
- The speech cache and the engines' circuit breaker are files in the cache folder, so they
  are shared by the workers and the controller as they were by threads.
- A worker that dies (killed, out of memory) breaks a ProcessPoolExecutor for good: the pool
  is then replaced and the jobs that were in it end with the reason, nothing is left waiting.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import tempfile
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

log = logging.getLogger(__name__)
WORKERS = 2
"""Render processes for ordinary speech. Two on a 2-core controller: two sends render at once,
and a third waits its turn instead of starving the web of CPU."""
URGENT_WORKERS = 1
"""A process kept for emergencies alone, so an emergency never queues behind ordinary sends."""
NICE = 10
"""Ordinary renders run at this niceness: a page read waits for no render; an emergency's
worker keeps the normal priority."""


def _warm() -> bool:
    """Runs in a worker: one tiny offline render, before the first real job needs it.

    A worker's first render paid about 5 s more than the next ones on the shared 2-core
    machine (the normalizer, numpy/scipy and the engines are imported on first use, and
    espeak-ng's data is read cold); an emergency must not be the one to pay it.
    """
    from audio.render import render_text
    from audio.settings import MasterSettings, SpeechSettings

    with tempfile.TemporaryDirectory() as d:
        render_text("Xin chào.", SpeechSettings(engines=("espeak",)), MasterSettings(), Path(d))
    return True


def _follow_parent() -> None:
    """Worker initializer: end this worker when the controller that started it is gone.

    A controller killed with SIGKILL (or crashing) cannot stop its pool, and a spawned worker
    would otherwise wait on its queue for ever, holding memory on the Raspberry-Pi-sized
    controllers; a restarted controller starts its own workers.
    """
    # Ctrl-C in a terminal reaches the whole process group: the controller stops its workers
    # itself, and a worker's own KeyboardInterrupt only printed a traceback at the user.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def _background() -> None:
    """Worker initializer for ordinary speech: yield the CPU to the web (and to emergencies).

    The niceness is inherited by the engine and ffmpeg children the render starts.
    """
    _follow_parent()
    os.nice(NICE)


def _render(text, speech, master, cache_dir, abbreviations, urgent):
    from audio.render import render_text

    return render_text(text, speech, master, cache_dir, abbreviations=abbreviations, urgent=urgent)


class RenderPool:
    """Fixed sets of speech worker processes (ordinary, urgent); results come back on one thread."""

    def __init__(self, workers: int = WORKERS, urgent_workers: int = URGENT_WORKERS,
                 warm_up: bool = True):
        self.sizes = {"normal": workers, "urgent": urgent_workers}
        self.warm_up = warm_up
        self._lock = threading.Lock()
        self._pools: dict[str, ProcessPoolExecutor] = {}
        # Database writes after a render run here, one at a time, off the executors' own
        # management threads (which must stay free to collect the next results).
        self._after = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render-done")
        self._closed = False

    def start(self) -> None:
        """Start the emergency worker(s) and import the speech pipeline in them."""
        # Only the lane an emergency uses is warmed at start: each warm worker costs about 2 s
        # of CPU and 60 MB, paid on every controller start, and an ordinary send can afford
        # its first render's import once (ProcessPoolExecutor starts those workers on first use).
        warm = ({"urgent"} if self.sizes["urgent"] else {"normal"}) if self.warm_up else set()
        for lane, n in self.sizes.items():
            if lane not in warm:
                continue
            pool = self._executor(lane)
            for f in [pool.submit(_warm) for _ in range(n)]:
                f.add_done_callback(lambda f: not f.cancelled() and f.exception() and log.warning(
                    "render worker warm-up failed: %s", f.exception()))

    def _executor(self, lane: str) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the render pool is stopped")
            if lane not in self._pools:
                self._pools[lane] = ProcessPoolExecutor(
                    max_workers=self.sizes[lane], mp_context=multiprocessing.get_context("spawn"),
                    initializer=_background if lane == "normal" else _follow_parent)
            return self._pools[lane]

    def _replace(self, lane: str, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pools.get(lane) is broken:
                del self._pools[lane]
        broken.shutdown(wait=False, cancel_futures=True)

    def render(self, text, speech, master, cache_dir, abbreviations=None, urgent=False) -> Future:
        """Render on a worker; the future holds audio.cache.Rendered or the AudioError."""
        lane = "urgent" if urgent and self.sizes["urgent"] else "normal"
        args = (_render, text, speech, master, cache_dir, abbreviations, urgent)
        pool = self._executor(lane)
        try:
            fut = pool.submit(*args)
        except BrokenProcessPool:
            self._replace(lane, pool)
            pool = self._executor(lane)
            fut = pool.submit(*args)
        fut.add_done_callback(lambda f: not f.cancelled()
                              and isinstance(f.exception(), BrokenProcessPool)
                              and self._replace(lane, pool))
        return fut

    def then(self, fut: Future, done) -> None:
        """Call done(future) on the pool's result thread once the render has finished."""
        def handoff(f: Future) -> None:
            # Stopping: the row stays `rendering` and the next start resumes it.
            with contextlib.suppress(RuntimeError):
                self._after.submit(_logged, done, f)

        fut.add_done_callback(handoff)

    def stop(self) -> None:
        """Stop taking jobs; running renders are abandoned (a restart picks them up again)."""
        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            procs = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:  # a render can take seconds; the controller is stopping now
                p.terminate()
        self._after.shutdown(wait=True, cancel_futures=True)


def _logged(fn, fut) -> None:
    try:
        fn(fut)
    except Exception:
        log.exception("handling a finished render failed")
