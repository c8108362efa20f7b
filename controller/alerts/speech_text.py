"""What is spoken for an alert: an opening phrase, then headline, description and instruction.

The chime comes from mastering (audio/master.py), like every announcement; the Vietnamese
normalizer runs later in the speech chain, so the text here stays as the authority wrote it.
"""

from __future__ import annotations

from controller.alerts.cap import Info

OPENINGS = {
    "emergency": "Thông báo khẩn cấp.",
    "priority": "Thông báo quan trọng.",
    "draft": "Thông báo.",
}
CANCEL_TITLE = "Hủy cảnh báo"


def spoken_text(info: Info, action: str, max_chars: int = 5000) -> str:
    """The full text to speak, cut at max_chars on a sentence boundary when too long."""
    parts = [OPENINGS.get(action, OPENINGS["draft"])]
    if info.sender_name:
        parts.append(f"{info.sender_name} thông báo:")
    for piece in (info.headline or info.event, info.description, info.instruction):
        piece = " ".join((piece or "").split())
        if piece:
            parts.append(piece if piece[-1] in ".!?:" else piece + ".")
    text = "\n".join(parts)
    if len(text) > max_chars:
        cut = text[:max_chars]
        text = cut[: max(cut.rfind("."), max_chars // 2) + 1]
    return text


def title(info: Info) -> str:
    """A short title for the announcement list."""
    return ("Cảnh báo: " + (info.headline or info.event))[:200]
