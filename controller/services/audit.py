"""The append-only audit trail."""

from __future__ import annotations

from sqlalchemy.orm import Session

from controller.models import AuditEvent


def record(s: Session, action: str, actor: str | None = None, target: str | None = None,
           detail: str | None = None, ip: str | None = None) -> AuditEvent:
    """Append one audit event (committed with the caller's transaction)."""
    ev = AuditEvent(actor=actor, action=action, target=target,
                    detail=(detail or None) and detail[:1000], ip=ip)
    s.add(ev)
    return ev
