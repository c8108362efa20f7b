"""`speaker-agent --config PATH [--check]`: run the daemon, or check its set-up in plain words."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path

from speaker_agent.config import AgentConfig, ConfigError, load

log = logging.getLogger("speaker_agent")


def check(cfg: AgentConfig) -> int:
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
    print("all checks passed" if not failed else f"{failed} check(s) failed")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `speaker-agent` console script."""
    parser = argparse.ArgumentParser(prog="speaker-agent", description=__doc__)
    parser.add_argument("--config", required=True, help="path of the agent's TOML config file")
    parser.add_argument("--check", action="store_true", help="check the set-up and exit")
    args = parser.parse_args(argv)
    try:
        cfg = load(args.config)
    except ConfigError as exc:
        print(f"speaker-agent: bad config: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=cfg.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.check:
        return check(cfg)
    log.debug("config: %s", json.dumps(cfg.redacted()))
    from speaker_agent.agent import Agent

    agent = Agent(cfg)
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    signal.signal(signal.SIGINT, lambda *_: agent.stop())
    agent.run()
    return agent.exit_code


if __name__ == "__main__":
    sys.exit(main())
