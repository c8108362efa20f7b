"""Sends signed `update` commands to speakers whose reported version is not their target.

Called from the dispatcher's loop. Updates skip the delivery outbox: the attempt row is
written in the same transaction as the decision, and the command carries a week of expiry,
so a speaker offline now still takes it from its persistent broker session later.
"""

from __future__ import annotations

import logging
import time

from controller.services import agent_updates
from controller.update_models import UpdateAttempt

log = logging.getLogger(__name__)


class UpdateSender:
    """One pass: find speakers due for an update, record an attempt, sign and publish."""

    def __init__(self, ctx, bus, every_s: float = 10.0):
        self.ctx = ctx
        self.bus = bus
        self.every_s = every_s  # the dispatcher loops each second; rollouts need no such haste
        self._next = 0.0

    def run_once(self) -> int:
        """Send what is due; returns how many commands were published."""
        if not self.bus.connected.is_set() or time.monotonic() < self._next:
            return 0
        self._next = time.monotonic() + self.every_s
        cmds = []
        with self.ctx.db.session() as s:
            for spk, rel in agent_updates.due(s):
                cmd = self.ctx.keys.sign(agent_updates.build_command(spk, rel, self.ctx.media_base))
                s.add(UpdateAttempt(command_id=cmd.id, speaker_id=spk.id, version=rel.version,
                                    from_version=agent_updates.reported_version(spk)))
                cmds.append(cmd)
        # Published after the commit: a command the DB does not know could never be followed.
        for cmd in cmds:
            self.bus.publish_command(cmd, int(agent_updates.UPDATE_TTL.total_seconds()))
            log.info("update %s to %s sent to %s", cmd.id, cmd.update.version, cmd.speaker_id)
        return len(cmds)
