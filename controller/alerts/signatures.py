"""Enveloped XML signatures (XML-DSig) on CAP alerts, checked with signxml against a feed's certificate.

signxml parses with its own hardened lxml parser and refuses weak algorithms (SHA-1) by
default; the certificate comes from the commune's config, never from the alert itself, so
a document cannot vouch for itself.
"""

from __future__ import annotations

from pathlib import Path


class BadSignature(ValueError):
    """The alert is unsigned or its signature does not verify; the message says which."""


def verify(data: bytes, cert_pem: str) -> None:
    """Check the enveloped signature of data against the PEM certificate (raises BadSignature)."""
    from signxml import XMLVerifier
    from signxml.exceptions import InvalidInput, InvalidSignature

    if b"Signature" not in data:
        raise BadSignature("the alert is not signed and this source requires a signature")
    try:
        XMLVerifier().verify(data, x509_cert=cert_pem)
    except (InvalidSignature, InvalidInput) as exc:
        raise BadSignature(f"the signature does not verify: {exc}") from None
    except Exception as exc:  # signxml raises lxml and cryptography errors on malformed input
        raise BadSignature(f"the signature cannot be checked: {type(exc).__name__}: {exc}") from None


def load_certificate(path: str | Path, data_dir: Path) -> str:
    """A PEM certificate file, relative to the data directory unless absolute."""
    p = Path(path)
    return (p if p.is_absolute() else data_dir / p).read_text(encoding="ascii")
