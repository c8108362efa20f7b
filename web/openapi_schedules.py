"""OpenAPI paths for schedules and the agenda (merged into web.openapi.spec)."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}
SECURED = [{"bearer": []}]


def _err(desc: str) -> dict:
    return {"description": desc, "content": {"application/json": {"schema": ERROR}}}


COMMON = {"401": _err("missing or invalid token"),
          "403": _err("role not allowed, emergency priority asked by an editor, or a target "
                      "outside the user's hamlets (the message names it)")}
SID = [{"name": "schedule_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
FIELD_ERRORS = {"description": "bad input; `errors` lists every field with message and message_vi",
                "content": {"application/json": {"schema": {
                    "type": "object", "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                   "field": {"type": "string"},
                                   "errors": {"type": "array", "items": {
                                       "type": "object",
                                       "properties": {"field": {"type": "string"},
                                                      "code": {"type": "string"},
                                                      "message": {"type": "string"},
                                                      "message_vi": {"type": "string"}}}}}}}}}
CONFLICTS = {"type": "array", "items": {"type": "object", "properties": {
    "speakers": {"type": "array", "items": {"type": "string"}}, "at": {"type": "string"},
    "overlap_s": {"type": "number"}, "other": {"type": "string"},
    "other_schedule_id": {"type": ["integer", "null"]},
    "message": {"type": "string"}, "message_vi": {"type": "string"}}}}
PENDING = {"description": "an editor's schedule or change: stored as a request on the announcement; "
                          "it airs once an approver approves it",
           "content": {"application/json": {"schema": {
               "type": "object", "required": ["status", "request_id"],
               "properties": {"status": {"enum": ["pending_approval"]},
                              "request_id": {"type": "integer"},
                              "schedule_id": {"type": ["integer", "null"]},
                              "conflicts": CONFLICTS, "message": {"type": "string"}}}}}}
SCHEDULE_IN = {
    "type": "object", "required": ["targets", "kind"],
    "description": "Recurrence fields at top level or under `recurrence`: kind (once, daily, weekly, "
                   "monthly, dates, cron), timezone (default: the commune's), at (once, local "
                   "'YYYY-MM-DD HH:MM[:SS]'), start_date, end_date, times, weekdays, month_day, "
                   "nth_weekday, dates, cron.",
    "properties": {
        "announcement_id": {"type": "integer",
                            "description": "an approved announcement (an editor's request may "
                                           "name a draft: both are approved together), or give "
                                           "`relay`"},
        "relay": {"type": "object", "required": ["source_id", "duration_s"],
                  "description": "a scheduled relay (tiếp sóng): each occurrence relays the "
                                 "source for duration_s (admin and approver only)",
                  "properties": {"source_id": {"type": "integer"},
                                 "duration_s": {"type": "integer", "minimum": 10,
                                                "maximum": 86400}}},
        "targets": {"$ref": "#/components/schemas/Targets"},
        "kind": {"enum": ["once", "daily", "weekly", "monthly", "dates", "cron"]},
        "repeat_count": {"type": "integer", "minimum": 1, "maximum": 10},
        "repeat_gap_s": {"type": "integer", "minimum": 0, "maximum": 600},
        "validity_s": {"type": "integer", "minimum": 60, "maximum": 86400},
        "priority": {"enum": ["normal", "priority", "emergency"]},
        "dry_run": {"type": "boolean", "description": "only validate and report conflicts"},
    },
}
SCHEDULE = {"description": "the schedule, with `conflicts` per speaker",
            "content": {"application/json": {"schema": {"type": "object", "properties": {
                "id": {"type": "integer"}, "status": {"enum": ["active", "paused", "cancelled"]},
                "plan": {"type": "object"}, "targets": {"type": "object"},
                "summary": {"type": "string"}, "summary_vi": {"type": "string"},
                "conflicts": CONFLICTS}}}}}
BODY = {"required": True, "content": {"application/json": {"schema": SCHEDULE_IN}}}


def _action(summary: str) -> dict:
    return {"post": {"summary": summary, "security": SECURED, "parameters": SID,
                     "responses": {"200": {"description": "new status"},
                                   "404": _err("unknown schedule"),
                                   "409": _err("already cancelled"), **COMMON}}}


def paths() -> dict:
    """The schedule and agenda paths."""
    return {
        "/api/v1/schedules": {
            "get": {"summary": "List schedules", "security": SECURED,
                    "parameters": [{"name": "status", "in": "query",
                                    "schema": {"enum": ["active", "paused", "cancelled"]}}],
                    "responses": {"200": {"description": "schedules"}, **COMMON}},
            "post": {"summary": "Create a schedule (dry_run: only check and report conflicts)",
                     "security": SECURED, "requestBody": BODY,
                     "responses": {"201": SCHEDULE, "202": PENDING,
                                   "200": {"description": "dry run: conflicts"},
                                   "400": FIELD_ERRORS, "404": _err("unknown announcement/target"),
                                   **COMMON}}},
        "/api/v1/schedules/{schedule_id}": {
            "get": {"summary": "One schedule", "security": SECURED, "parameters": SID,
                    "responses": {"200": SCHEDULE, "404": _err("unknown schedule"), **COMMON}},
            "put": {"summary": "Replace a schedule; future occurrences are planned again",
                    "security": SECURED, "parameters": SID, "requestBody": BODY,
                    "responses": {"200": SCHEDULE, "202": PENDING, "400": FIELD_ERRORS,
                                  "404": _err("unknown schedule"), "409": _err("cancelled"),
                                  **COMMON}},
            "delete": {"summary": "Cancel a schedule and its future occurrences (history stays)",
                       "security": SECURED, "parameters": SID,
                       "responses": {"200": {"description": "cancelled"},
                                     "404": _err("unknown schedule"), **COMMON}}},
        "/api/v1/schedules/{schedule_id}/pause": _action("Pause a schedule"),
        "/api/v1/schedules/{schedule_id}/resume": _action("Resume a paused schedule"),
        "/api/v1/schedules/{schedule_id}/cancel": _action("Cancel a schedule"),
        "/api/v1/schedules/{schedule_id}/occurrences/cancel": {"post": {
            "summary": "Cancel one occurrence, named by its due_at", "security": SECURED,
            "parameters": SID,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["due_at"],
                "properties": {"due_at": {"type": "string", "format": "date-time"}}}}}},
            "responses": {"200": {"description": "cancelled"}, "400": _err("bad due_at"),
                          "404": _err("no such occurrence"),
                          "409": _err("already dispatched, missed or cancelled"), **COMMON}}},
        "/api/v1/agenda": {"get": {
            "summary": "Occurrences in a range: planned, dispatched, played on n of m speakers, "
                       "missed (with reason) or cancelled",
            "security": SECURED,
            "parameters": [{"name": "from", "in": "query", "schema": {"type": "string"},
                            "description": "local date YYYY-MM-DD or RFC 3339 instant"},
                           {"name": "to", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "occurrences"}, "400": _err("bad range"),
                          **COMMON}}},
    }
