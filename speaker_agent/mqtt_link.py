"""The agent's MQTT 5 link; the only module that imports paho.

- Persistent session: fixed client id (the account name), clean_start off and a long
  session expiry, so the broker queues commands while the Pi is offline.
- Subscribes in on_connect, so every reconnect resubscribes; checks CONNACK.
- TCP_NODELAY on the socket: paho leaves Nagle on (DESIGN.md, 44 ms vs 5.8 ms).
- Reconnects with exponential backoff and jitter in its own loop, instead of
  paho's loop_forever whose retry delay has no jitter (a whole commune's
  agents would otherwise reconnect in lock-step after a broker restart).
- Acks go through the durable outbox in the Store: a row is deleted only when
  the broker's PUBACK arrives, so acks made offline are sent on reconnect.
- Acks made within ACK_LINGER_S of each other leave in one message (an ack batch,
  protocol/acks.py): with the audio cached, `received`, `downloaded` and `playing`
  are one publish, not three. The rows of a batch are deleted together on its PUBACK.
- Group commands: besides its own command topic the agent reads its retained
  membership and the commune's and its hamlet's group topics (protocol.groups).
  `listening` is the hamlet whose topics the broker granted on this connection;
  the agent reports it in its state, and only then does the controller count on
  group commands reaching it.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol.acks import MAX_ACKS_PER_MESSAGE, encode_acks
from protocol.errors import ProtocolError
from protocol.messages import Ack
from protocol.topics import Topics
from speaker_agent.config import AgentConfig
from speaker_agent.store import Store

log = logging.getLogger(__name__)
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 30.0
ACK_LINGER_S = 0.05
"""How long a new ack waits for the next: a few fsyncs on a Pi's SD card, short on the air."""
MAX_BATCH_BYTES = 32 * 1024


def backoff_delay(attempt: int, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_MAX_S) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random."""
    d = min(cap, base * 2 ** min(attempt, 16))
    return d / 2 + random.uniform(0, d / 2)


def _nodelay(client, userdata, sock) -> None:
    """paho never sets TCP_NODELAY; small acks would wait on Nagle."""
    # TLS-wrapped or exotic sockets may refuse: that costs latency only.
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class MqttLink:
    """Keeps one speaker connected; hands raw command payloads to `on_command`."""

    def __init__(self, cfg: AgentConfig, store: Store, on_command: Callable[[bytes], None],
                 state_payload: Callable[[bool], bytes],
                 on_group: Callable[[bytes], None] = lambda raw: None,
                 on_membership: Callable[[bytes], None] = lambda raw: None,
                 hamlet_id: Callable[[], int | None] = lambda: None,
                 on_listening: Callable[[], None] = lambda: None):
        self.cfg = cfg
        self.store = store
        self.on_command = on_command
        self.state_payload = state_payload
        self.on_group = on_group
        self.on_membership = on_membership
        self.hamlet_id = hamlet_id
        self.on_listening = on_listening
        self.listening: int | None = None
        self._group_subs: dict[int, int] = {}  # SUBSCRIBE mid -> hamlet id
        self._subscribed_hamlet: int | None = None
        self.topics = Topics(cfg.broker.topic_prefix)
        self.connected = threading.Event()
        self.last_refusal: str | None = None
        # Lock order matters: paho calls on_publish while holding its own
        # _out_message_mutex, and publish() takes that mutex. So no lock of ours
        # may be held while calling publish() if on_publish also takes it:
        # _pump_lock serializes pumps only; _mid_lock guards the maps and is
        # never held across a paho call.
        self._pump_lock = threading.Lock()
        self._mid_lock = threading.Lock()
        self._inflight: dict[int, list[int]] = {}  # paho mid -> outbox seqs of that message
        self._sending: set[int] = set()  # outbox seqs handed to paho, PUBACK pending
        self._done: set[int] = set()  # seqs confirmed since the last outbox read
        self._early: OrderedDict[int, None] = OrderedDict()  # PUBACKs seen before publish() returned
        self._linger_lock = threading.Lock()
        self._linger: threading.Timer | None = None
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        b = self.cfg.broker
        # The account name: the broker replaces the client id with it anyway
        # (use_username_as_clientid), so one speaker cannot take over another's session.
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=b.username,
                             protocol=mqtt.MQTTv5)
        client.username_pw_set(b.username, b.password)
        if b.tls:
            client.tls_set(ca_certs=b.ca_file or None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.on_socket_open = _nodelay
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        return client

    # -- paho callbacks (run in the network thread) ----------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.last_refusal = f"broker refused the connection: {reason_code}"
            log.error("%s", self.last_refusal)
            return
        self.last_refusal = None
        log.info("connected to %s:%d (session present: %s)", self.cfg.broker.host,
                 self.cfg.broker.port, flags.session_present)
        sid = self.cfg.speaker_id
        client.subscribe([(self.topics.cmd(sid), 1), (self.topics.membership(sid), 1)])
        self.listening = None
        self._subscribed_hamlet = None
        self.follow_hamlet()
        self.connected.set()
        self.publish_state()
        self.flush()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected.is_set():
            log.warning("disconnected from broker: %s", reason_code)
        self.connected.clear()

    def _on_message(self, client, userdata, msg) -> None:
        # paho sends the PUBACK after this returns, so the command is stored first.
        try:
            if msg.topic == self.topics.membership(self.cfg.speaker_id):
                self.on_membership(msg.payload)
            elif self.topics.is_group_topic(msg.topic):
                self.on_group(msg.payload)
            else:
                self.on_command(msg.payload)
        except Exception:  # a bad command must never kill the network thread
            log.exception("command handler failed")

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        hamlet = self._group_subs.pop(mid, None)
        if hamlet is None:
            return
        refused = [rc for rc in reason_codes if rc.is_failure]
        if refused:
            # The ACL does not let us read that hamlet yet (a move the broker has not seen):
            # per-speaker commands keep coming; the next membership or reconnect tries again.
            log.warning("broker refused the group topics of hamlet %d: %s", hamlet, refused[0])
            return
        if hamlet == self.hamlet_id():
            self.listening = hamlet
            log.info("listening to the group commands of hamlet %d", hamlet)
            self.on_listening()

    def follow_hamlet(self) -> None:
        """Subscribe to the group topics of the current hamlet (and leave the previous one's)."""
        hamlet = self.hamlet_id()
        if hamlet is None or hamlet == self._subscribed_hamlet:
            return
        old, self._subscribed_hamlet, self.listening = self._subscribed_hamlet, hamlet, None
        if old is not None:
            self.client.unsubscribe(self.topics.hamlet_cmd(old))
        _, mid = self.client.subscribe([(t, 1) for t in self.topics.group_topics(hamlet)])
        self._group_subs[mid] = hamlet

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        if reason_code.is_failure:
            # e.g. "Not authorized": resending cannot help, and must not block later acks.
            log.error("broker refused a publish (%s)", reason_code)
        with self._mid_lock:
            seqs = self._inflight.pop(mid, None)
            if seqs is None:
                # Either a state publish, or a PUBACK faster than publish() returning.
                self._early[mid] = None
                while len(self._early) > 1000:
                    self._early.popitem(last=False)
                return
            self._confirm(seqs)

    def _confirm(self, seqs: list[int]) -> None:
        """A message reached the broker: delete its acks from the outbox (caller holds _mid_lock)."""
        self.store.outbox_done(seqs)
        self._sending.difference_update(seqs)
        self._done.update(seqs)

    # -- used by the agent -----------------------------------------------------

    def pump(self) -> None:
        """Send the outbox within ACK_LINGER_S, with whatever other acks are made meanwhile."""
        if not self.connected.is_set():
            return
        with self._linger_lock:
            if self._linger is not None:
                return  # a flush is already due and will take this ack too
            # A short-lived timer, not a polling thread: an idle agent wakes for nothing.
            self._linger = threading.Timer(ACK_LINGER_S, self._linger_done)
            self._linger.daemon = True
            self._linger.start()

    def _linger_done(self) -> None:
        with self._linger_lock:
            self._linger = None
        try:
            self.flush()
        except Exception:  # the next pump or reconnect sends what is left
            log.exception("sending the ack outbox failed")

    def flush(self) -> None:
        """Publish every outbox ack not already handed to paho, now (only while connected)."""
        if not self.connected.is_set():
            return
        topic = self.topics.ack(self.cfg.speaker_id)
        with self._pump_lock:
            rows = self.store.outbox()
            with self._mid_lock:
                fresh = [(seq, p) for seq, p in rows
                         if seq not in self._sending and seq not in self._done]
            for seqs, payload in _messages(fresh):
                with self._mid_lock:
                    self._sending.update(seqs)
                # paho keeps QoS 1 messages queued and resends them on reconnect,
                # so anything it accepted stays tracked until its PUBACK.
                info = self.client.publish(topic, payload, qos=1)
                with self._mid_lock:
                    if self._early.pop(info.mid, False) is None:
                        self._confirm(seqs)
                    else:
                        self._inflight[info.mid] = seqs
            with self._mid_lock:
                # only rows read before their deletion can come back stale
                self._done &= {seq for seq, _ in rows}

    def publish_state(self) -> None:
        """Publish the retained health state (skipped while offline: only the latest matters)."""
        if self.connected.is_set():
            self.client.publish(self.topics.state(self.cfg.speaker_id), self.state_payload(True),
                                qos=1, retain=True)

    def run(self, stop: threading.Event) -> None:
        """Connect and keep connected until `stop` is set (thread body)."""
        b = self.cfg.broker
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = b.session_expiry_s
        attempt = 0
        first = True
        while not stop.is_set():
            self.client.will_set(self.topics.state(self.cfg.speaker_id), self.state_payload(False),
                                 qos=1, retain=True)
            try:
                if first:
                    self.client.connect(b.host, b.port, b.keepalive, clean_start=False, properties=props)
                    first = False
                else:
                    self.client.reconnect()
            except (OSError, ssl.SSLError) as exc:
                self.last_refusal = f"cannot reach broker {b.host}:{b.port}: {exc}"
                log.warning("%s", self.last_refusal)
            else:
                while not stop.is_set():
                    if self.client.loop(timeout=0.5) != mqtt.MQTT_ERR_SUCCESS:
                        break
                    if self.connected.is_set():
                        attempt = 0
            if stop.is_set():
                break  # still connected, maybe: close() flushes the outbox and says goodbye
            self.connected.clear()
            delay = backoff_delay(attempt)
            attempt += 1
            log.info("reconnecting in %.1f s", delay)
            stop.wait(delay)

    def close(self, timeout: float = 3.0) -> None:
        """Flush the ack outbox, publish the retained offline state, then disconnect cleanly.

        Call after `run()` returned: the network loop is driven here by hand. A clean
        DISCONNECT means the broker does not fire the last will; we said offline ourselves.
        """
        if not self.connected.is_set():
            return
        self.flush()
        info = self.client.publish(self.topics.state(self.cfg.speaker_id), self.state_payload(False),
                                   qos=1, retain=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.connected.is_set():
            with self._mid_lock:
                pending = bool(self._inflight)
            if info.is_published() and not pending:
                break
            self.client.loop(timeout=0.1)
        self.client.disconnect()
        for _ in range(3):
            self.client.loop(timeout=0.1)


def _messages(rows: list[tuple[int, bytes]]):
    """Consecutive outbox rows packed into ack messages: (their seqs, the payload), in order.

    A row alone goes out byte for byte as stored (the one-event shape every controller
    reads); a row that does not decode (never expected) is sent alone, as it is.
    """
    group: list[tuple[int, bytes, Ack]] = []
    size = 0

    def flush_group():
        if len(group) == 1:
            return [group[0][0]], group[0][1]
        return [g[0] for g in group], encode_acks([g[2] for g in group])

    for seq, payload in rows:
        try:
            ack = Ack.decode(payload)
        except ProtocolError:
            if group:
                yield flush_group()
                group, size = [], 0
            yield [seq], payload
            continue
        if group and (len(group) >= MAX_ACKS_PER_MESSAGE or size + len(payload) > MAX_BATCH_BYTES
                      or ack.speaker_id != group[0][2].speaker_id):
            yield flush_group()
            group, size = [], 0
        group.append((seq, payload, ack))
        size += len(payload)
    if group:
        yield flush_group()


def probe_broker(cfg: AgentConfig, timeout: float = 10.0) -> str:
    """Connect once with the agent's credentials, keeping its session; plain words or RuntimeError."""
    b = cfg.broker
    result: dict = {}
    done = threading.Event()
    # The broker gives this connection the account name as client id, so it takes over the
    # running agent's session: resume it (no clean start, same expiry) and acknowledge
    # nothing, so queued commands stay queued for the agent, which reconnects on its own.
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=b.username,
                         protocol=mqtt.MQTTv5, manual_ack=True)
    client.username_pw_set(b.username, b.password)
    if b.tls:
        client.tls_set(ca_certs=b.ca_file or None, tls_version=ssl.PROTOCOL_TLS_CLIENT)

    def on_connect(c, u, flags, reason_code, properties):
        result["rc"] = reason_code
        done.set()

    client.on_connect = on_connect
    try:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = b.session_expiry_s
        client.connect(b.host, b.port, b.keepalive, clean_start=False, properties=props)
    except (OSError, ssl.SSLError) as exc:
        raise RuntimeError(f"cannot reach broker {b.host}:{b.port}: {exc}") from None
    client.loop_start()
    try:
        if not done.wait(timeout):
            raise RuntimeError(f"broker {b.host}:{b.port} did not answer within {timeout:.0f} s")
        rc = result["rc"]
        if rc.is_failure:
            raise RuntimeError(f"broker {b.host}:{b.port} refused user {b.username!r}: {rc}")
        return f"broker {b.host}:{b.port} accepted user {b.username!r}"
    finally:
        client.disconnect()
        client.loop_stop()
