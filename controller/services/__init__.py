"""Use cases called by the web views and the CLI. Views stay thin; the logic lives here."""
