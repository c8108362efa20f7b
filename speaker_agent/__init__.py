"""The speaker agent: a small daemon on a hamlet's Raspberry Pi that plays signed commands.

Run it as `speaker-agent --config agent.toml`; see docs/agent-install.md. Only the
base dependencies (paho-mqtt, cryptography, gpiozero) and the standard library are used.
"""
