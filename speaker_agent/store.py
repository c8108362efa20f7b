"""The durable local queue and ack outbox: SQLite in the agent's data directory.

The only module that speaks SQL. It survives kill -9 and power cuts
(`synchronous=FULL`), and it is the agent's memory of every command id it has
accepted, which is what makes delivery idempotent: a QoS 1 redelivery or a
controller resend finds its id here and is never played again.

Play items move through: received → downloaded → playing → played | failed |
expired | stopped. A preempted item goes back to downloaded.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from protocol.messages import PRIORITY_RANK, Command, decode_command

# States after which an item will never play.
DONE_STATES = ("played", "failed", "expired", "stopped", "done")
ACTIVE_STATES = ("received", "downloaded", "playing")

SCHEMA = """
CREATE TABLE IF NOT EXISTS commands (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    rank INTEGER NOT NULL,
    play_at REAL,
    expires_at REAL NOT NULL,
    sha256 TEXT,
    payload BLOB NOT NULL,
    state TEXT NOT NULL,
    detail TEXT,
    received_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS commands_state ON commands(state);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Item:
    """One stored command with its local state."""

    command: Command
    state: str
    detail: str | None
    received_at: float

    @property
    def id(self) -> str:
        """The command id."""
        return self.command.id

    @property
    def rank(self) -> int:
        """Higher plays first: emergency > priority > normal."""
        return PRIORITY_RANK[self.command.priority]


class Store:
    """Commands, the ack outbox and small settings, in one SQLite file."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the agent's threads, serialized by a lock:
        # simpler than a pool and plenty for a handful of writes per broadcast.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # power cuts are normal in a hamlet
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _row_item(self, row) -> Item:
        payload, state, detail, received_at = row
        return Item(decode_command(payload), state, detail, received_at)

    def add(self, cmd: Command, raw: bytes, now: float, ack: bytes) -> Item | None:
        """Store a new command and its `received` ack in one transaction; the existing item if seen."""
        with self._lock:
            existing = self.get(cmd.id)
            if existing is not None:
                return existing
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO commands (id, type, rank, play_at, expires_at, sha256, payload, state,"
                    " received_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (cmd.id, cmd.type, PRIORITY_RANK[cmd.priority],
                     cmd.play_at.timestamp() if cmd.play_at else None, cmd.expires_at.timestamp(),
                     cmd.media.sha256 if cmd.media else None, raw, "received", now, now),
                )
                self._db.execute("INSERT INTO outbox (payload) VALUES (?)", (ack,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return None

    def get(self, command_id: str) -> Item | None:
        """The stored item with this id, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT payload, state, detail, received_at FROM commands WHERE id=?", (command_id,)
            ).fetchone()
        return self._row_item(row) if row else None

    def set_state(self, command_id: str, state: str, now: float, detail: str | None = None,
                  ack: bytes | None = None) -> None:
        """Move an item to `state`, queuing its ack in the same transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("UPDATE commands SET state=?, detail=?, updated_at=? WHERE id=?",
                                 (state, detail, now, command_id))
                if ack is not None:
                    self._db.execute("INSERT INTO outbox (payload) VALUES (?)", (ack,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def items(self, states: tuple[str, ...], kind: str = "play") -> list[Item]:
        """Items of a type in the given states, best first: rank, then play_at, then arrival."""
        marks = ",".join("?" * len(states))
        with self._lock:
            rows = self._db.execute(
                f"SELECT payload, state, detail, received_at FROM commands "  # noqa: S608 - only '?' marks
                f"WHERE type=? AND state IN ({marks}) ORDER BY rank DESC, play_at, received_at",
                (kind, *states),
            ).fetchall()
        return [self._row_item(r) for r in rows]

    def queue_len(self) -> int:
        """How many play items are still waiting or playing."""
        with self._lock:
            (n,) = self._db.execute(
                "SELECT COUNT(*) FROM commands WHERE type='play' AND state IN (?,?,?)", ACTIVE_STATES
            ).fetchone()
        return n

    def needed_hashes(self) -> set[str]:
        """SHA-256 of every audio file a waiting item still needs (never evicted)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT sha256 FROM commands WHERE type='play' AND state IN (?,?,?)",
                ACTIVE_STATES,
            ).fetchall()
        return {r[0] for r in rows if r[0]}

    # -- outbox ---------------------------------------------------------------

    def outbox_add(self, ack: bytes) -> None:
        """Queue an ack that is not tied to a state change (rejections, pongs)."""
        with self._lock:
            self._db.execute("INSERT INTO outbox (payload) VALUES (?)", (ack,))

    def outbox(self, limit: int = 200) -> list[tuple[int, bytes]]:
        """Oldest unsent acks first."""
        with self._lock:
            return self._db.execute(
                "SELECT seq, payload FROM outbox ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()

    def outbox_done(self, seqs: list[int]) -> None:
        """Forget the acks of a message the broker has confirmed (PUBACK), in one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("DELETE FROM outbox WHERE seq=?", [(q,) for q in seqs])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # -- settings -------------------------------------------------------------

    def setting(self, key: str, default: str | None = None) -> str | None:
        """A persisted setting (e.g. the volume set by a command)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        """Persist a setting."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))
