"""The MQTT floor: a bare QoS 1 publish to N simulated speakers, each replying once, timed at
the publisher. bench.fanout compares the controller's whole path against it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol.topics import Topics

PROBE_BYTES = 700  # about the size of a signed play command, so the floor moves the same bytes


class FloorClient:
    """Publishes bare probes as the controller user and times each speaker's reply."""

    def __init__(self, port: int, password: str, topics: Topics):
        self.topics = topics
        self.arrivals: dict[bytes, float] = {}
        self.lock = threading.Lock()
        self.all_in = threading.Event()
        self.expect = 0
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-floor",
                        protocol=mqtt.MQTTv5)
        c.username_pw_set("controller", password)
        c.max_inflight_messages_set(100)  # as the controller's MqttBus
        c.max_queued_messages_set(0)
        c.on_socket_open = lambda cl, ud, sock: _nodelay(sock)
        c.on_message = self._on_message
        ready = threading.Event()
        c.on_subscribe = lambda *a: ready.set()
        c.on_connect = lambda cl, *a: cl.subscribe(topics.all_acks(), qos=1)
        c.connect("127.0.0.1", port, keepalive=30)
        c.loop_start()
        if not ready.wait(30):
            raise RuntimeError("floor client did not subscribe")
        self.client = c

    def _on_message(self, client, userdata, msg):
        if msg.payload.startswith(b"F"):
            with self.lock:
                self.arrivals[msg.payload] = time.time()
                if len(self.arrivals) >= self.expect:
                    self.all_in.set()

    def run(self, ids: list[str], run_no: int, timeout: float) -> list[float]:
        """Publish one probe per speaker; return each reply's latency from the first publish."""
        with self.lock:
            self.arrivals.clear()
            self.expect = len(ids)
            self.all_in.clear()
        props = Properties(PacketTypes.PUBLISH)
        props.MessageExpiryInterval = 900
        t0 = time.time()
        for i, sid in enumerate(ids):
            key = f"F{run_no}:{i}".encode()
            payload = key + b"|" + b"x" * (PROBE_BYTES - len(key) - 1)
            self.client.publish(self.topics.cmd(sid), payload, qos=1, properties=props)
        if not self.all_in.wait(timeout):
            raise TimeoutError(f"floor: {len(self.arrivals)}/{len(ids)} replies")
        with self.lock:
            return [t - t0 for t in self.arrivals.values()]

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def _nodelay(sock) -> None:
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
