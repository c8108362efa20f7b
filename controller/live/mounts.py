"""Which Icecast mounts have a source right now (Icecast's public status-json.xsl)."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlparse


def fed_mounts(base_url: str, timeout: float = 2.0) -> set[str]:
    """Mount paths ("/live-3") that currently have a source connected."""
    with urllib.request.urlopen(base_url.rstrip("/") + "/status-json.xsl",  # noqa: S310 - our Icecast
                                timeout=timeout) as r:
        stats = json.loads(r.read().decode("utf-8", "replace")).get("icestats", {})
    sources = stats.get("source") or []
    if isinstance(sources, dict):
        sources = [sources]
    return {urlparse(src.get("listenurl", "")).path for src in sources if src.get("listenurl")}
