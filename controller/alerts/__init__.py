"""Public warnings in CAP 1.2: parse and validate, match areas to hamlets, decide, air, repeat.

Modules, in the order an alert goes through them: `xml_safety` (hardened parsing),
`cap` (schema validation and the alert's fields), `signatures` (optional XML-DSig),
`areas` (hamlets concerned), `policy` (what to do), `speech_text` (what is said),
`intake` (the whole path, logged), `lifecycle` (Update/Cancel/expiry), `feeds` (polling).
"""
