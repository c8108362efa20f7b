"""The OpenAPI 3.1 document for /api/v1 (kept beside the views; a test checks they agree)."""

from __future__ import annotations

from web.openapi_alerts import paths as alert_paths
from web.openapi_live import paths as live_paths
from web.openapi_relays import paths as relay_paths
from web.openapi_schedules import paths as schedule_paths

ERROR = {"$ref": "#/components/schemas/Error"}


def _err(desc: str) -> dict:
    return {"description": desc, "content": {"application/json": {"schema": ERROR}}}


def spec() -> dict:
    """Build the document."""
    targets = {
        "oneOf": [
            {"type": "object", "properties": {"all": {"const": True}}, "required": ["all"],
             "additionalProperties": False},
            {"type": "object", "properties": {"hamlets": {"type": "array", "minItems": 1,
                                                          "items": {"type": "string"}}},
             "required": ["hamlets"], "additionalProperties": False},
            {"type": "object", "properties": {"speakers": {"type": "array", "minItems": 1,
                                                           "items": {"type": "string"}}},
             "required": ["speakers"], "additionalProperties": False},
        ]
    }
    secured = [{"bearer": []}]
    common = {"401": _err("missing or invalid token"),
              "403": _err("role not allowed, or a target outside the user's hamlets (named)")}
    return {
        "openapi": "3.1.0",
        "info": {"title": "commune-radio API", "version": "1",
                 "description": "A user limited to hamlets sees only their speakers, broadcasts "
                                "and schedules (others answer 404), and may target only them "
                                "(403 naming the hamlet). Emergency priority is for approvers "
                                "and admins; an editor's schedule or change waits for approval "
                                "(202)."},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"],
                          "properties": {"error": {"type": "string"},
                                         "message": {"type": "string"},
                                         "field": {"type": "string"}}},
                "Targets": targets,
                "Delivery": {"type": "object", "required": ["speaker_id", "state", "events"],
                             "properties": {
                                 "speaker_id": {"type": "string"}, "state": {"type": "string"},
                                 "command_id": {"type": "string"},
                                 "events": {"type": "array", "items": {
                                     "type": "object", "required": ["event", "at"],
                                     "properties": {"event": {"type": "string"},
                                                    "at": {"type": "string"},
                                                    "source": {"type": "string"},
                                                    "detail": {"type": ["string", "null"]}}}}}},
            },
        },
        "paths": {
            "/api/v1/speakers": {"get": {
                "summary": "List speakers with presence and health", "security": secured,
                "responses": {"200": {"description": "speakers", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["speakers"], "properties": {
                        "speakers": {"type": "array", "items": {
                            "type": "object", "required": ["id", "hamlet", "online"],
                            "properties": {"id": {"type": "string"},
                                           "hamlet": {"type": "string"},
                                           "online": {"type": "boolean"}}}}}}}}},
                    **common}}},
            "/api/v1/hamlets": {"get": {
                "summary": "List hamlets", "security": secured,
                "responses": {"200": {"description": "hamlets"}, **common}}},
            "/api/v1/broadcasts": {
                "get": {"summary": "Recent broadcasts", "security": secured,
                        "parameters": [{"name": "limit", "in": "query",
                                        "schema": {"type": "integer", "minimum": 1,
                                                   "maximum": 200}}],
                        "responses": {"200": {"description": "broadcasts"}, **common}},
                "post": {
                    "summary": "Speak a text now on the chosen speakers", "security": secured,
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"type": "object", "required": ["text", "targets"],
                                   "properties": {
                                       "text": {"type": "string", "minLength": 1},
                                       "title": {"type": "string"},
                                       "priority": {"enum": ["normal", "priority", "emergency"]},
                                       "targets": {"$ref": "#/components/schemas/Targets"}}}}}},
                    "responses": {
                        "201": {"description": "created", "content": {"application/json": {
                            "schema": {"type": "object", "required": ["id"],
                                       "properties": {"id": {"type": "integer"}}}}}},
                        "400": _err("bad input"), "404": _err("unknown hamlet or speaker"),
                        **common}}},
            "/api/v1/broadcasts/{broadcast_id}": {"get": {
                "summary": "A broadcast with each speaker's delivery state and events",
                "security": secured,
                "parameters": [{"name": "broadcast_id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "responses": {
                    "200": {"description": "broadcast", "content": {"application/json": {
                        "schema": {"type": "object", "required": ["id", "deliveries"],
                                   "properties": {"id": {"type": "integer"},
                                                  "deliveries": {"type": "array", "items": {
                                                      "$ref": "#/components/schemas/Delivery"}}}}}}},
                    "404": _err("unknown broadcast"), **common}}},
            **schedule_paths(),
            **live_paths(),
            **alert_paths(),
            **relay_paths(),
            "/api/v1/preview": {"post": {
                "summary": "Normalized spoken text and mastered audio for a text, without airing",
                "security": secured,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["text"],
                    "properties": {"text": {"type": "string", "minLength": 1}}}}}},
                "responses": {"200": {"description": "preview", "content": {"application/json": {
                    "schema": {"type": "object",
                               "required": ["spoken_text", "audio_url", "duration_ms", "engine"],
                               "properties": {"spoken_text": {"type": "string"},
                                              "audio_url": {"type": "string"},
                                              "duration_ms": {"type": "integer"},
                                              "engine": {"type": "string"},
                                              "cached": {"type": "boolean"}}}}}},
                              "400": _err("bad input"), **common}}},
            "/api/v1/abbreviations": {
                "get": {"summary": "The abbreviation dictionary in force", "security": secured,
                        "responses": {"200": {"description": "dictionary"}, **common}},
                "put": {"summary": "Replace the dictionary ({} restores the default)",
                        "security": secured,
                        "requestBody": {"required": True, "content": {"application/json": {
                            "schema": {"type": "object", "required": ["abbreviations"],
                                       "properties": {"abbreviations": {
                                           "type": "object",
                                           "additionalProperties": {"type": "string"}}}}}}},
                        "responses": {"200": {"description": "saved"}, "400": _err("bad input"),
                                      **common}}},
        },
    }
