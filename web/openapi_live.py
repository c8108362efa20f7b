"""OpenAPI paths for live sessions (merged into web.openapi.spec)."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}
SECURED = [{"bearer": []}]


def _err(desc: str) -> dict:
    return {"description": desc, "content": {"application/json": {"schema": ERROR}}}


COMMON = {"401": _err("missing or invalid token"), "403": _err("role not allowed")}
LID = [{"name": "session_id", "in": "path", "required": True,
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}]
INGEST = {"type": "object", "required": ["chunk_url", "chunk_seconds", "chunk_mime", "icecast"],
          "properties": {
              "chunk_url": {"type": "string", "description":
                            "POST each MediaRecorder piece here in order, adding &seq=0,1,2,…"},
              "chunk_path": {"type": "string"},
              "chunk_seconds": {"type": "number", "description": "MediaRecorder timeslice"},
              "chunk_mime": {"type": "string"},
              "idle_s": {"type": "number",
                         "description": "the session ends when no piece came for this long"},
              "icecast": {"type": "object", "description": "for an external encoder (BUTT, ffmpeg)",
                          "required": ["host", "port", "mount", "username", "password"],
                          "properties": {"host": {"type": "string"}, "port": {"type": "integer"},
                                         "mount": {"type": "string"},
                                         "username": {"type": "string"},
                                         "password": {"type": "string"},
                                         "content_type": {"type": "string"}}}}}
SESSION = {"description": "the live session like a relay: state and per-speaker deliveries",
           "content": {"application/json": {"schema": {
               "type": "object", "required": ["id", "state", "deliveries"],
               "properties": {
                   "id": {"type": "integer"}, "state": {"enum": ["scheduled", "active", "ended"]},
                   "end_reason": {"type": ["string", "null"], "description":
                                  "stopped, browser_gone, source_lost, no_source, "
                                  "controller_restarted, ended"},
                   "mount": {"type": "string"}, "live": {"type": "boolean"},
                   "deliveries": {"type": "array", "items": {
                       "type": "object", "required": ["speaker_id", "state", "aired_s", "events"],
                       "properties": {"speaker_id": {"type": "string"}, "state": {"type": "string"},
                                      "aired_s": {"type": "number"},
                                      "events": {"type": "array", "items": {"type": "object"}}}}}}}}}}


def paths() -> dict:
    """The /api/v1/live paths."""
    return {
        "/api/v1/live": {"post": {
            "summary": "Go live now on the targets (admins and approvers; no approval step)",
            "security": SECURED,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["targets"],
                "properties": {"targets": {"$ref": "#/components/schemas/Targets"},
                               "title": {"type": "string", "maxLength": 200}}}}}},
            "responses": {
                "201": {"description": "the session and how to feed it", "content": {
                    "application/json": {"schema": {"type": "object", "required": ["id", "ingest"],
                                                    "properties": {"id": {"type": "integer"},
                                                                   "ingest": INGEST}}}}},
                "400": _err("bad input"), "404": _err("unknown hamlet or speaker"),
                "409": _err("the targets are already live; the message names who holds them"),
                **COMMON}}},
        "/api/v1/live/{session_id}": {"get": {
            "summary": "One live session", "security": SECURED, "parameters": LID,
            "responses": {"200": SESSION, "404": _err("unknown live session"), **COMMON}}},
        "/api/v1/live/{session_id}/ingest": {"get": {
            "summary": "The chunk URL and the external encoder's Icecast login, again",
            "security": SECURED, "parameters": LID,
            "responses": {"200": {"description": "ingest", "content": {"application/json": {
                "schema": INGEST}}}, "404": _err("unknown live session"), **COMMON}}},
        "/api/v1/live/{session_id}/stop": {"post": {
            "summary": "End a live session; the speakers stop", "security": SECURED,
            "parameters": LID,
            "responses": {"200": SESSION, "404": _err("unknown live session"), **COMMON}}},
        "/api/v1/live/{session_id}/chunks": {"post": {
            "summary": "One numbered piece of the browser's recording (audio/webm;codecs=opus)",
            "description": "Authorized by the session's chunk key (in chunk_url), not a bearer "
                           "token. Pieces may arrive out of order or twice; each is used once.",
            "security": [],
            "parameters": LID + [
                {"name": "key", "in": "query", "required": True, "schema": {"type": "string"}},
                {"name": "seq", "in": "query", "required": True,
                 "schema": {"type": "integer", "minimum": 0}}],
            "requestBody": {"required": True, "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": {"description": "accepted: next_seq, duplicates, skipped"},
                          "400": _err("bad seq or chunk"), "403": _err("wrong chunk key"),
                          "409": _err("the session is not on air any more")}}},
    }
