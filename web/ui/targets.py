"""Targets ({"all"} / hamlets / speakers) in a clerk's words: the hamlet names they reach."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from controller.services import registry
from controller.services.errors import ServiceError


def hamlets_of(speakers) -> str:
    """'Ấp 1, Ấp 2' for the hamlets of these speakers (each once, sorted)."""
    return ", ".join(sorted({spk.hamlet.name for spk in speakers if spk.hamlet is not None}))


def targets_text(s: Session, targets) -> str:
    """'tất cả các ấp', or the hamlets the targets reach today; the raw value if unreadable."""
    if isinstance(targets, dict) and targets.get("all") is True:
        return _("all hamlets")
    try:
        return hamlets_of(registry.resolve_targets(s, targets)) or "—"
    except ServiceError:
        return str(targets)
