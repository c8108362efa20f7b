"""The controller's MQTT adapter: the only controller module that imports paho.

Subscriptions are made in on_connect so every reconnect resubscribes; CONNACK
reason codes are checked and logged. The session is persistent (clean_start off,
long session expiry), so acks published while the controller is down wait in the
broker for it.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from protocol.messages import Command, ControllerState, utc_now
from protocol.topics import Topics

log = logging.getLogger(__name__)
SESSION_EXPIRY_S = 7 * 24 * 3600


@dataclass(frozen=True)
class BrokerAddress:
    """Where and as whom to connect."""

    host: str
    port: int
    username: str
    password: str
    tls: bool = False
    ca_file: str | None = None


class MqttBus:
    """Publishes commands, delivers acks and states to callbacks."""

    def __init__(self, address: BrokerAddress, topics: Topics,
                 on_message: Callable[[str, str, bytes], None],
                 client_id: str | None = None):
        self.address = address
        self.topics = topics
        self._on_message_cb = on_message
        self.connected = threading.Event()
        self.connects = 0
        """How many times the bus connected (the group sender republishes memberships after each)."""
        self.on_puback: Callable[[int, int, str], None] | None = None
        # The persistent session is keyed by client id: one stable id per commune (topic
        # prefix), so two communes' controllers on a shared broker don't take over each other.
        client_id = client_id or "controller-" + re.sub(r"[^A-Za-z0-9_-]", "-", topics.prefix)[:60]
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        c.username_pw_set(address.username, address.password)
        if address.tls:
            c.tls_set(ca_certs=address.ca_file or None)
        c.reconnect_delay_set(min_delay=1, max_delay=30)
        c.max_queued_messages_set(0)
        c.max_inflight_messages_set(100)
        c.will_set(topics.controller_state(), ControllerState(False, utc_now()).encode(),
                   qos=1, retain=True)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_publish = self._on_publish
        c.on_socket_open = self._on_socket_open
        self.client = c

    def start(self) -> None:
        """Connect in the background; reconnects are automatic."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self.client.connect_async(self.address.host, self.address.port, keepalive=15,
                                  clean_start=False, properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        """Publish offline and disconnect."""
        if self.connected.is_set():
            info = self.client.publish(self.topics.controller_state(),
                                       ControllerState(False, utc_now()).encode(), qos=1,
                                       retain=True)
            info.wait_for_publish(timeout=2)
        self.client.disconnect()
        self.client.loop_stop()

    def publish_command(self, cmd: Command, expiry_s: int) -> int:
        """Publish one command QoS 1 with MQTT 5 message expiry; returns the message id."""
        props = Properties(PacketTypes.PUBLISH)
        props.MessageExpiryInterval = max(1, int(expiry_s))
        info = self.client.publish(self.topics.cmd(cmd.speaker_id), cmd.encode(), qos=1,
                                   properties=props)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"publish failed: {mqtt.error_string(info.rc)}")
        return info.mid

    def publish_group(self, topic: str, cmd, expiry_s: int) -> int:
        """Publish one group command (protocol.groups) QoS 1 on a group topic, with expiry."""
        props = Properties(PacketTypes.PUBLISH)
        props.MessageExpiryInterval = max(1, int(expiry_s))
        info = self.client.publish(topic, cmd.encode(), qos=1, properties=props)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"publish failed: {mqtt.error_string(info.rc)}")
        return info.mid

    def publish_membership(self, speaker_id: str, payload: bytes) -> None:
        """Set (or with b"" clear) a speaker's retained membership: the hamlet it listens to."""
        info = self.client.publish(self.topics.membership(speaker_id), payload, qos=1, retain=True)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"publish failed: {mqtt.error_string(info.rc)}")

    # -- paho callbacks (network thread) --
    def _on_socket_open(self, client, userdata, sock):
        # paho leaves Nagle on; a command round on loopback drops from ~44 ms to ~6 ms without it.
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("broker refused the controller: %s", reason_code)
            return
        client.subscribe([(self.topics.all_acks(), 1), (self.topics.all_states(), 1)])
        client.publish(self.topics.controller_state(),
                       ControllerState(True, utc_now()).encode(), qos=1, retain=True)
        self.connects += 1
        self.connected.set()
        log.info("connected to broker %s:%d", self.address.host, self.address.port)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        log.warning("disconnected from broker: %s", reason_code)

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        if self.on_puback is not None:
            self.on_puback(mid, reason_code.value, str(reason_code))

    def _on_message(self, client, userdata, msg):
        try:
            speaker_id, kind = self.topics.parse(msg.topic)
        except ValueError:
            log.warning("message on unexpected topic %r ignored", msg.topic[:200])
            return
        try:
            self._on_message_cb(speaker_id, kind, msg.payload)
        except Exception:  # a bad payload must never kill the network thread
            log.exception("handling %s from %s failed", kind, speaker_id)
