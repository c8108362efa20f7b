"""The link to the provincial source system (hệ thống thông tin nguồn, Thông tư 39).

Up: device status and the aired-bulletin log, written to an outbox in the same transaction as
their cause and sent by `sender.Sender`. Down: bulletins received on `web/province_api.py`.
Field names, endpoint paths and id mappings live in `province.toml` in the data directory
(`mapping.py`), so a province with a variant changes data, not code. Off unless
`[province] enabled = true`.
"""
