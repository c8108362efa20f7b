"""A test-side controller: signs commands with a fresh Ed25519 key, publishes them, collects acks and states.

It logs in as the broker's `controller` user with a persistent session, so acks
that agents send while it is reconnecting (after a broker restart) still reach it.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol.acks import decode_acks
from protocol.groups import GroupCommand, Membership, Targets, new_group_id
from protocol.messages import Ack, Command, Media, SpeakerState, Stream
from protocol.signing import public_key_text, sign
from protocol.topics import Topics

_counter = itertools.count(1)


class FakeController:
    """Publishes signed commands as user `controller` and records every ack and state."""

    def __init__(self, broker, key: Ed25519PrivateKey | None = None):
        self.broker = broker
        self.topics: Topics = broker.topics
        self.key = key or Ed25519PrivateKey.generate()
        self.acks: list[Ack] = []
        self.ack_messages: list[list[Ack]] = []
        """The acks as they arrived, one list per MQTT message (a batch holds several)."""
        self.states: dict[str, SpeakerState] = {}
        self._cond = threading.Condition()
        self._connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"fake-controller-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
        self.client.username_pw_set("controller", broker.controller_password)
        self.client.reconnect_delay_set(0.2, 2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self._connected.clear()
        self.client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        # The controller's listener: there client ids are free, so two fake controllers
        # (a key rotation test) do not take over each other as on the speakers' listener.
        self.client.connect("127.0.0.1", broker.controller_port, keepalive=10, clean_start=False,
                            properties=props)
        self.client.loop_start()
        if not self._connected.wait(15):
            raise RuntimeError("fake controller could not connect")

    @property
    def public_key(self) -> str:
        """The base64 public key agents must trust."""
        return public_key_text(self.key.public_key())

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            return
        client.subscribe(self.topics.all_acks(), qos=1)
        client.subscribe(self.topics.all_states(), qos=1)
        self._connected.set()

    def _on_message(self, client, userdata, msg):
        _, kind = self.topics.parse(msg.topic)
        with self._cond:
            if kind == "ack":
                acks = decode_acks(msg.payload)
                self.ack_messages.append(acks)
                self.acks.extend(acks)
            elif kind == "state":
                state = SpeakerState.decode(msg.payload)
                self.states[state.speaker_id] = state
            self._cond.notify_all()

    # -- building and sending commands ------------------------------------------

    def command(self, speaker_id: str, type: str = "play", *, media: Media | None = None,
                play_in: float = 0.0, priority: str = "normal", expires_in: float = 600.0,
                issued_at: datetime | None = None, volume: int | None = None,
                command_id: str | None = None, session_id: str | None = None) -> Command:
        """An unsigned command; play_at is now + play_in (`session_id` for a stop of one session)."""
        now = datetime.now(UTC)
        issued = issued_at or now
        return Command(
            id=command_id or f"c{next(_counter)}-{uuid.uuid4().hex[:8]}",
            type=type,
            speaker_id=speaker_id,
            issued_at=issued,
            expires_at=now + timedelta(seconds=expires_in),
            priority=priority,
            play_at=now + timedelta(seconds=play_in) if type == "play" else None,
            media=media,
            volume=volume,
            session_id=session_id,
        )

    def stream_command(self, speaker_id: str, url: str, token: str, *, session_id: str,
                       kind: str = "relay", play_in: float = 0.0, lasts: float = 30.0,
                       priority: str = "normal", command_id: str | None = None) -> Command:
        """An unsigned play_stream: the session runs from now + play_in for `lasts` seconds."""
        now = datetime.now(UTC)
        start = now + timedelta(seconds=play_in)
        until = start + timedelta(seconds=lasts)
        return Command(
            id=command_id or f"s{next(_counter)}-{uuid.uuid4().hex[:8]}",
            type="play_stream",
            speaker_id=speaker_id,
            issued_at=now,
            expires_at=until,
            priority=priority,
            play_at=start,
            stream=Stream(session_id=session_id, url=url, token=token, kind=kind, until=until),
        )

    def sign(self, cmd: Command) -> Command:
        """Sign with this controller's key."""
        return sign(cmd, self.key)

    def publish_raw(self, speaker_id: str, payload: bytes) -> None:
        """Publish bytes on a speaker's command topic, QoS 1, and wait for the broker's PUBACK."""
        if not self._connected.wait(30):  # e.g. just after a broker restart
            raise RuntimeError("fake controller is not connected")
        info = self.client.publish(self.topics.cmd(speaker_id), payload, qos=1)
        info.wait_for_publish(timeout=10)

    def send(self, cmd: Command, signed: bool = True) -> Command:
        """Sign (unless told not to) and publish a command; returns what was sent."""
        if signed:
            cmd = self.sign(cmd)
        self.publish_raw(cmd.speaker_id, cmd.encode())
        return cmd

    def membership(self, speaker_id: str, hamlet_id: int) -> None:
        """Tell a speaker its hamlet: a signed membership, retained on its own topic."""
        m = sign(Membership(speaker_id, hamlet_id, datetime.now(UTC)), self.key)
        if not self._connected.wait(30):
            raise RuntimeError("fake controller is not connected")
        info = self.client.publish(self.topics.membership(speaker_id), m.encode(), qos=1, retain=True)
        info.wait_for_publish(timeout=10)

    def group(self, topic: str, media: Media, *, hamlets: tuple[int, ...] = (),
              speakers: tuple[str, ...] = (), play_in: float = 0.0,
              expires_in: float = 600.0) -> GroupCommand:
        """Sign and publish a group play command on a group topic; returns what was sent."""
        now = datetime.now(UTC)
        cmd = sign(GroupCommand(group=new_group_id(), targets=Targets(hamlets=hamlets, speakers=speakers),
                                issued_at=now, expires_at=now + timedelta(seconds=expires_in),
                                play_at=now + timedelta(seconds=play_in), media=media), self.key)
        self.publish_group_raw(topic, cmd.encode())
        return cmd

    def publish_group_raw(self, topic: str, payload: bytes) -> None:
        """Publish bytes on a group topic, QoS 1, and wait for the broker's PUBACK."""
        if not self._connected.wait(30):
            raise RuntimeError("fake controller is not connected")
        self.client.publish(topic, payload, qos=1).wait_for_publish(timeout=10)

    # -- observing -------------------------------------------------------------------

    def events(self, command_id: str) -> list[str]:
        """The ack events received so far for a command, in arrival order."""
        with self._cond:
            return [a.event for a in self.acks if a.command_id == command_id]

    def unique_events(self, command_id: str) -> list[str]:
        """Events with exact duplicate acks dropped.

        Acks are at-least-once: after a crash or broker restart an agent resends an
        ack whose PUBACK it never saw, byte for byte (same `at`), so a controller
        can drop such copies.
        """
        with self._cond:
            return [a.event for a in dict.fromkeys(a for a in self.acks if a.command_id == command_id)]

    def acks_for(self, command_id: str) -> list[Ack]:
        """The acks received so far for a command."""
        with self._cond:
            return [a for a in self.acks if a.command_id == command_id]

    def wait_for(self, predicate, timeout: float = 60.0, what: str = "condition"):
        """Wait until predicate() is truthy; return its value or raise AssertionError."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; acks: "
                                         f"{[(a.command_id, a.event, a.detail) for a in self.acks]}")
                self._cond.wait(min(left, 0.5))

    def wait_ack(self, command_id: str, event: str, timeout: float = 60.0) -> Ack:
        """Wait for a given ack event of a command."""
        def found():
            return next((a for a in self.acks if a.command_id == command_id and a.event == event), None)
        return self.wait_for(found, timeout, f"{event} of {command_id}")

    def wait_state(self, speaker_id: str, predicate, timeout: float = 60.0) -> SpeakerState:
        """Wait until the speaker's retained state satisfies predicate."""
        def found():
            s = self.states.get(speaker_id)
            return s if s is not None and predicate(s) else None
        return self.wait_for(found, timeout, f"state of {speaker_id}")

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()
