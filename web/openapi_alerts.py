"""OpenAPI paths for public warnings (CAP 1.2), merged into web.openapi.spec."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}
SECURED = [{"bearer": []}]
NULLABLE_STR = {"type": ["string", "null"]}


def _err(desc: str) -> dict:
    return {"description": desc, "content": {"application/json": {"schema": ERROR}}}


ALERT = {
    "type": "object",
    "required": ["id", "received_at", "source", "action", "matched_hamlets", "broadcast_ids"],
    "properties": {
        "id": {"type": "integer"}, "received_at": {"type": "string"}, "source": {"type": "string"},
        "identifier": NULLABLE_STR, "sender": NULLABLE_STR, "sent": NULLABLE_STR,
        "status": NULLABLE_STR, "msg_type": NULLABLE_STR, "event": NULLABLE_STR,
        "headline": NULLABLE_STR, "language": NULLABLE_STR, "severity": NULLABLE_STR,
        "urgency": NULLABLE_STR, "expires": NULLABLE_STR,
        "areas": {"type": "array", "items": {"type": "string"}},
        "matched_hamlets": {"type": "array", "items": {
            "type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}},
        "action": {"type": "string", "description":
                   "emergency, priority, draft, ignored, refused, not_for_us, test, duplicate, "
                   "cancel, unknown_ref or failed"},
        "reason": NULLABLE_STR,
        "state": {"type": "string", "description": "active (repeating), done, cancelled or replaced"},
        "signed": {"type": "boolean"},
        "broadcast_ids": {"type": "array", "items": {"type": "integer"}},
        "schedule_id": {"type": ["integer", "null"]},
        "announcement_id": {"type": ["integer", "null"]},
        "refers_to": {"type": ["integer", "null"]},
        "raw_sha256": NULLABLE_STR,
    },
}
COMMON = {"401": _err("missing or invalid token"), "403": _err("role not allowed")}


def paths() -> dict:
    """Paths for /api/v1/alerts."""
    one = {"description": "the alert-log line", "content": {"application/json": {"schema": ALERT}}}
    return {
        "/api/v1/alerts": {
            "post": {
                "summary": "Take a CAP 1.2 alert (role alert-source or admin)",
                "description": "The body is one CAP 1.2 XML document. It is validated against the "
                               "OASIS schema, matched to hamlets and handled by the commune's "
                               "policy table. Every document, refused ones too, gets a line in "
                               "the alert log.",
                "security": SECURED,
                "requestBody": {"required": True, "content": {
                    "application/cap+xml": {"schema": {"type": "string"}},
                    "application/xml": {"schema": {"type": "string"}}}},
                "responses": {
                    "201": {**one, "description": "received and logged (see action and reason)"},
                    "413": _err("the body is over the size limit (logged as refused)"),
                    "422": {**one, "description": "refused (not CAP 1.2, unsafe, bad signature, "
                                                  "bad polygon, expired); logged with the reason"},
                    **COMMON,
                },
            },
            "get": {
                "summary": "The alert log, newest first", "security": SECURED,
                "parameters": [{"name": "limit", "in": "query", "required": False,
                                "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
                "responses": {"200": {"description": "alerts", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["alerts"], "properties": {
                        "alerts": {"type": "array", "items": ALERT}}}}}}, **COMMON},
            },
        },
        "/api/v1/alerts/{alert_id}": {
            "get": {
                "summary": "One alert-log line with its broadcasts", "security": SECURED,
                "parameters": [{"name": "alert_id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "responses": {"200": one, "404": _err("unknown alert"), **COMMON},
            },
        },
    }
