"""`speaker-agent --config PATH [--check [--strict]]`: run the daemon, or check its set-up in plain words."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import stat
import sys
from pathlib import Path

from speaker_agent.config import AgentConfig, ConfigError, load

log = logging.getLogger("speaker_agent")


def security_warnings(cfg: AgentConfig, config_path: str | Path | None) -> list[tuple[str, str, bool]]:
    """(name, words, fails in strict mode) for each risky setting: a readable secret, no TLS."""
    out = []
    if config_path and cfg.broker.password:
        mode = Path(config_path).stat().st_mode
        if mode & stat.S_IRWXO:  # the service's group may read it (install.sh: 0640)
            out.append(("secrets", f"{config_path} holds the broker secret but every user can "
                        f"read it (mode {stat.S_IMODE(mode):04o}); run: chmod 600 {config_path}",
                        True))
    if not cfg.broker.tls:
        out.append(("tls", f"[broker] tls = false: the broker secret and every command cross the "
                    f"network to {cfg.broker.host} in clear; use TLS outside a trusted LAN", False))
    return out


def check(cfg: AgentConfig, config_path: str | Path | None = None, strict: bool = False) -> int:
    """Check config, data dir, audio, volume, GPIO and broker; print each result; 0 if all pass."""
    from speaker_agent.mqtt_link import probe_broker
    from speaker_agent.player import make_player
    from speaker_agent.relay import Relay
    from speaker_agent.stream_player import make_stream_player
    from speaker_agent.volume import make_mixer

    def data_dir() -> str:
        d = Path(cfg.data_dir)
        d.mkdir(parents=True, exist_ok=True)
        probe = d / ".write-test"
        probe.write_text("ok")
        probe.unlink()
        return f"data directory {d} is writable"

    def relay() -> str:
        r = Relay(cfg.relay)
        try:
            return r.check()
        finally:
            r.close()

    checks = [
        ("config", lambda: f"config is valid for speaker {cfg.speaker_id!r} "
                           f"({len(cfg.security.public_keys)} controller key(s))"),
        ("data", data_dir),
        ("audio", lambda: make_player(cfg.player).check()),
        ("streams", lambda: make_stream_player(cfg.player, cfg.stream).check()),
        ("volume", lambda: make_mixer(cfg.player.backend, cfg.volume).check()),
        ("gpio", relay),
        ("broker", lambda: probe_broker(cfg)),
    ]
    failed = 0
    for name, fn in checks:
        try:
            print(f"OK    {name:7} {fn()}")
        except Exception as exc:  # every check reports, whatever broke
            failed += 1
            print(f"FAIL  {name:7} {exc}")
    warnings = 0
    for name, words, strict_fails in security_warnings(cfg, config_path):
        if strict and strict_fails:
            failed += 1
            print(f"FAIL  {name:7} {words}")
        else:
            warnings += 1
            print(f"WARN  {name:7} {words}")
    note = f" ({warnings} warning(s))" if warnings else ""
    print(f"all checks passed{note}" if not failed else f"{failed} check(s) failed{note}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `speaker-agent` console script."""
    parser = argparse.ArgumentParser(prog="speaker-agent", description=__doc__)
    parser.add_argument("--config", required=True, help="path of the agent's TOML config file")
    parser.add_argument("--check", action="store_true", help="check the set-up and exit")
    parser.add_argument("--health", action="store_true",
                        help="say whether the running agent is healthy (exit 0) or not (exit 1)")
    parser.add_argument("--log-file", default=None,
                        help="also log to this file, rotated at 1 MB (3 kept); default: stderr only")
    parser.add_argument("--strict", action="store_true",
                        help="with --check: a config file others can read fails the check")
    args = parser.parse_args(argv)
    try:
        cfg = load(args.config)
    except ConfigError as exc:
        print(f"speaker-agent: bad config: {exc}", file=sys.stderr)
        return 2
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if args.log_file:
        from logging.handlers import RotatingFileHandler

        handlers = [RotatingFileHandler(args.log_file, maxBytes=1_000_000, backupCount=3,
                                        encoding="utf-8")]
    logging.basicConfig(level=cfg.log_level, handlers=handlers,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.health:
        from pathlib import Path

        from speaker_agent.health import read_verdict

        ok, why = read_verdict(Path(cfg.data_dir), cfg.health.heartbeat_s)
        print(why)
        return 0 if ok else 1
    from speaker_agent.fetch import use_ca_file

    use_ca_file(cfg.http.ca_file)
    if args.check:
        return check(cfg, args.config, strict=args.strict)
    log.debug("config: %s", json.dumps(cfg.redacted()))
    from speaker_agent.agent import Agent

    agent = Agent(cfg)
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    signal.signal(signal.SIGINT, lambda *_: agent.stop())
    agent.run()
    return agent.exit_code


if __name__ == "__main__":
    sys.exit(main())
