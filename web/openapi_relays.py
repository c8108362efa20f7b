"""OpenAPI paths for tiếp sóng: sources and relays (merged into web.openapi.spec)."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}
SECURED = [{"bearer": []}]


def _err(desc: str) -> dict:
    return {"description": desc, "content": {"application/json": {"schema": ERROR}}}


COMMON = {"401": _err("missing or invalid token"), "403": _err("role not allowed")}
CREATED = {"description": "created", "content": {"application/json": {"schema": {
    "type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}}}}
RID = [{"name": "relay_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
SOURCE = {"type": "object", "required": ["id", "name", "url"], "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "url": {"type": "string"},
    "backup_url": {"type": ["string", "null"]}, "format": {"type": ["string", "null"]},
    "codec": {"type": ["string", "null"]}, "bitrate": {"type": ["integer", "null"]},
    "probe_error": {"type": ["string", "null"],
                    "description": "why the probe failed, when it was saved anyway"}}}
EVENT = {"type": "object", "required": ["event", "at"], "properties": {
    "event": {"type": "string", "description": "started, backup, main, ended, stopped"},
    "at": {"type": "string"}, "detail": {"type": ["string", "null"]}}}
GAP = {"type": "object", "required": ["started_at", "reason"], "properties": {
    "started_at": {"type": "string"},
    "ended_at": {"type": ["string", "null"], "description": "null while the outage lasts"},
    "reason": {"type": "string"}}}
RELAY = {"type": "object", "required": ["id", "state", "deliveries"], "properties": {
    "id": {"type": "integer"},
    "state": {"enum": ["running", "ended", "stopped", "failed"]},
    "source_id": {"type": "integer"}, "source": {"type": "string"},
    "starts_at": {"type": "string"}, "until": {"type": "string"},
    "ended_at": {"type": ["string", "null"]}, "reason": {"type": ["string", "null"]},
    "on_backup": {"type": "boolean"},
    "deliveries": {"type": "array", "items": {
        "type": "object", "required": ["speaker_id", "state", "aired_s", "events"],
        "properties": {"speaker_id": {"type": "string"}, "state": {"type": "string"},
                       "aired_s": {"type": "number"},
                       "events": {"type": "array", "items": {"type": "object"}}}}},
    "events": {"type": "array", "items": EVENT},
    "gaps": {"type": "array", "items": GAP}}}


def paths() -> dict:
    """The /api/v1/sources and /api/v1/relays paths."""
    return {
        "/api/v1/sources": {
            "get": {"summary": "Upstream sources for tiếp sóng", "security": SECURED,
                    "responses": {"200": {"description": "sources", "content": {
                        "application/json": {"schema": {
                            "type": "object", "required": ["sources"],
                            "properties": {"sources": {"type": "array", "items": SOURCE}}}}}},
                        **COMMON}},
            "post": {
                "summary": "Register a source; its URL is probed (ffprobe) and an unreachable or "
                           "non-audio one is refused unless force is true",
                "security": SECURED,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["name", "url"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 120},
                        "url": {"type": "string", "description":
                                "http(s) stream (MP3, AAC, Opus) or HLS .m3u8 playlist"},
                        "backup_url": {"type": ["string", "null"]},
                        "force": {"type": "boolean",
                                  "description": "save even if the probe fails"}}}}}},
                "responses": {"201": CREATED, "400": _err("bad input, unreachable or not audio"),
                              "409": _err("a source with this name exists"), **COMMON}}},
        "/api/v1/relays": {
            "get": {"summary": "Running relays, then recent ones", "security": SECURED,
                    "parameters": [{"name": "limit", "in": "query",
                                    "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
                    "responses": {"200": {"description": "relays"}, **COMMON}},
            "post": {
                "summary": "Relay a source now to the targets until a time or for a duration "
                           "(scheduled relays go through /api/v1/schedules)",
                "security": SECURED,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["source_id", "targets"],
                    "properties": {
                        "source_id": {"type": "integer"},
                        "targets": {"$ref": "#/components/schemas/Targets"},
                        "until": {"type": "string", "description": "ISO 8601 with a zone"},
                        "duration_s": {"type": "integer", "minimum": 10, "maximum": 86400}}}}}},
                "responses": {"201": CREATED, "400": _err("bad input"),
                              "404": _err("unknown source, hamlet or speaker"),
                              "409": _err("a speaker already relays something then"), **COMMON}}},
        "/api/v1/relays/{relay_id}": {"get": {
            "summary": "A relay with each speaker's state, seconds aired and events, and its gaps",
            "security": SECURED, "parameters": RID,
            "responses": {"200": {"description": "relay", "content": {"application/json": {
                "schema": RELAY}}}, "404": _err("unknown relay"), **COMMON}}},
        "/api/v1/relays/{relay_id}/stop": {"post": {
            "summary": "Stop a running relay now", "security": SECURED, "parameters": RID,
            "responses": {"200": {"description": "the stopped relay", "content": {
                "application/json": {"schema": RELAY}}},
                "404": _err("unknown relay"), "409": _err("the relay is not running"),
                **COMMON}}},
    }
