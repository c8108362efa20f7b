"""A small synchronous MQTT 5 test client that records CONNACK, SUBACK and PUBACK reason codes."""

from __future__ import annotations

import ssl
import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

NOT_AUTHORIZED = 135  # MQTT 5 reason code 0x87
BAD_CREDENTIALS = 134  # 0x86 "Bad user name or password"
NO_SUBSCRIBERS = 16  # 0x10: accepted, but nobody was subscribed


class Probe:
    """One MQTT 5 connection; every call waits for the broker's answer."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None,
                 client_id: str | None = None, tls_ca: str | None = None):
        self.connack: int | None = None
        self.messages: list[tuple[str, bytes]] = []
        self.disconnects: list[int] = []
        self.subacks: dict[int, list[int]] = {}
        self.pubacks: dict[int, int] = {}
        self._cond = threading.Condition()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2,
                             client_id=client_id or f"probe-{uuid.uuid4().hex[:8]}",
                             protocol=mqtt.MQTTv5)
        if username is not None:
            self.c.username_pw_set(username, password)
        if tls_ca:
            self.c.tls_set(ca_certs=tls_ca, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.on_publish = self._on_publish
        self.c.on_disconnect = self._on_disconnect
        self.port = port

    def _note(self, fn):
        with self._cond:
            fn()
            self._cond.notify_all()

    def _on_connect(self, c, u, flags, rc, props):
        self._note(lambda: setattr(self, "connack", rc.value))

    def _on_message(self, c, u, msg):
        self._note(lambda: self.messages.append((msg.topic, msg.payload)))

    def _on_subscribe(self, c, u, mid, rcs, props):
        self._note(lambda: self.subacks.__setitem__(mid, [r.value for r in rcs]))

    def _on_publish(self, c, u, mid, rc, props):
        self._note(lambda: self.pubacks.__setitem__(mid, rc.value))

    def _on_disconnect(self, c, u, flags, rc, props):
        self._note(lambda: self.disconnects.append(rc.value))

    def wait(self, predicate, timeout: float = 20.0, what: str = "broker answer"):
        """Wait until predicate() is truthy."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}")
                self._cond.wait(min(left, 0.2))
            return predicate()

    def connect(self, clean_start: bool = True, session_expiry: int = 0) -> int:
        """Connect; return the CONNACK reason code (0 = accepted)."""
        props = None
        if session_expiry:
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = session_expiry
        self.c.connect("127.0.0.1", self.port, keepalive=30, clean_start=clean_start,
                       properties=props)
        self.c.loop_start()
        self.wait(lambda: self.connack is not None or self.disconnects, what="CONNACK")
        if self.connack is None:
            return self.disconnects[0]
        return self.connack

    def subscribe(self, topic: str) -> list[int]:
        """Subscribe at QoS 1; return the SUBACK reason codes."""
        _, mid = self.c.subscribe(topic, qos=1)
        return self.wait(lambda: self.subacks.get(mid), what="SUBACK")

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> int:
        """Publish at QoS 1; return the PUBACK reason code (0 = accepted, 135 = not authorized)."""
        mid = self.c.publish(topic, payload, qos=1, retain=retain).mid
        self.wait(lambda: mid in self.pubacks, what="PUBACK")
        return self.pubacks[mid]

    def got(self, topic: str) -> list[bytes]:
        """Payloads received on a topic so far."""
        with self._cond:
            return [p for t, p in self.messages if t == topic]

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.c.disconnect()
        self.c.loop_stop()
