"""A signing authority made in the test: an RSA key, a self-signed certificate, enveloped signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def authority(name: str = "KTTV An Giang (test)") -> tuple[bytes, bytes]:
    """(private key PEM, certificate PEM) of a new self-signed authority."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def sign(doc: bytes, key_pem: bytes, cert_pem: bytes) -> bytes:
    """The CAP document with an enveloped XML-DSig signature appended to <alert>."""
    from lxml import etree
    from signxml import XMLSigner, methods

    root = etree.fromstring(doc)
    signed = XMLSigner(method=methods.enveloped).sign(root, key=key_pem, cert=cert_pem)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
