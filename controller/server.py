"""Runs the controller: messaging threads plus the web app on waitress, until a signal."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from controller.managed_broker import next_free_port, port_is_free

log = logging.getLogger(__name__)


def free_web_port(host: str, port: int) -> int:
    """The requested web port, or the next free one."""
    return port if port_is_free(port, host) else next_free_port(port + 1, host)


class WebServer:
    """waitress in a thread, stoppable.

    waitress reads a whole request body before the app sees it, so the size cap must be
    waitress's own: `max_request_body_size` refuses a larger Content-Length with 413 at
    once, without reading the body (it used to take 200 MB before Flask said 413).
    X-Forwarded-* headers reach the app only when proxies are trusted (the app's ProxyFix
    then believes exactly that many hops); otherwise waitress drops them.
    """

    def __init__(self, app, host: str, port: int, threads: int = 8):
        from waitress.server import create_server

        ctl = app.extensions.get("commune_radio")  # None for a helper app (the mock province)
        trusted = ctl.settings.trusted_proxies if ctl is not None else 0
        self.server = create_server(
            app, host=host, port=port, threads=threads, ident="commune-radio",
            clear_untrusted_proxy_headers=not trusted,
            max_request_body_size=app.config.get("MAX_CONTENT_LENGTH") or 1_073_741_824)
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    def start(self) -> None:
        """Serve in the background."""
        self.thread.start()

    def stop(self) -> None:
        """Close the listening socket and worker threads."""
        self.server.close()


def wait_for_signal(extra_check=None) -> None:
    """Block until SIGINT/SIGTERM (or `extra_check()` returns True)."""
    stop = threading.Event()

    def _handler(signum, _frame):
        log.info("signal %d: shutting down", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    while not stop.wait(1.0):
        if extra_check and extra_check():
            break


class SystemdWatchdog:
    """sd_notify for `Type=notify` with `WatchdogSec=`: READY once up, WATCHDOG while healthy.

    Outside systemd (no NOTIFY_SOCKET) every call is a no-op. The watchdog is fed only while
    /healthz would say ok, so a controller whose database hangs is restarted by systemd.
    """

    def __init__(self, ctl):
        import sdnotify

        self.ctl = ctl
        self.notifier = sdnotify.SystemdNotifier()
        usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
        self.interval = usec / 2e6 if usec > 0 else None  # systemd's advice: half the timeout
        self._next = 0.0

    def ready(self) -> None:
        """Tell systemd the controller is serving."""
        self.notifier.notify("READY=1\nSTATUS=serving")

    def tick(self) -> bool:
        """Called about once a second by the main loop; never asks it to stop."""
        if self.interval is None or time.monotonic() < self._next:
            return False
        self._next = time.monotonic() + self.interval
        from controller.metrics import health

        ok, details = health(self.ctl)
        if ok:
            self.notifier.notify("WATCHDOG=1")
        else:
            self.notifier.notify(f"STATUS=unhealthy: {details}")
            log.warning("health check failed, not feeding the watchdog: %s", details)
        return False

    def stopping(self) -> None:
        """Tell systemd the stop is deliberate."""
        self.notifier.notify("STOPPING=1")


def serve(settings, host: str | None = None, port: int | None = None, on_ready=None) -> None:
    """Start everything, run until a signal, stop everything."""
    from controller.app import create_app
    from controller.runtime import Controller

    host = host or settings.web_host
    port = free_web_port(host, port or settings.web_port)
    ctl = Controller(settings)
    # Listening (not yet answering) before the managed Icecast starts: its listener-auth calls
    # to us wait in the socket's backlog until the web thread runs, a moment later. A closed
    # port made Icecast answer 401, which speakers logged as a refused token after a restart.
    web = WebServer(create_app(controller=ctl), host, port)
    try:
        ctl.start(web_port=port)
    except BaseException:
        web.stop()
        raise
    web.start()
    print(f"commune-radio: web on http://{host}:{port}/", flush=True)
    watchdog = SystemdWatchdog(ctl)
    try:
        if on_ready:
            on_ready(ctl, port)
        watchdog.ready()
        wait_for_signal(watchdog.tick)
    finally:
        watchdog.stopping()
        web.stop()
        ctl.stop()
