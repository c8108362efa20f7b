"""The wire format shared by the controller and the speaker agents.

This package is the only place that knows topic strings and payload shapes.
It depends on the standard library and `cryptography` (for Ed25519) only, so a
Raspberry Pi agent can import it without the controller's dependencies.
"""

from protocol.errors import ProtocolError
from protocol.messages import (
    ACK_EVENTS,
    COMMAND_TYPES,
    PRIORITIES,
    SCHEMA_VERSION,
    Ack,
    Command,
    ControllerState,
    Media,
    SpeakerState,
    Update,
    decode_command,
    format_time,
    parse_time,
)
from protocol.topics import Topics

__all__ = [
    "ACK_EVENTS",
    "COMMAND_TYPES",
    "PRIORITIES",
    "SCHEMA_VERSION",
    "Ack",
    "Command",
    "ControllerState",
    "Media",
    "ProtocolError",
    "SpeakerState",
    "Topics",
    "Update",
    "decode_command",
    "format_time",
    "parse_time",
]
