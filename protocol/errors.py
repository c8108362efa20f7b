"""The one exception the protocol raises for anything malformed."""


class ProtocolError(ValueError):
    """A payload that does not match the protocol; carries the command id when one was readable."""

    def __init__(self, message: str, command_id: str | None = None):
        super().__init__(message)
        self.command_id = command_id
