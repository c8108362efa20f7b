"""HTTPS to the province: certificates are verified; a province CA can be given in the settings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server

from controller.province.client import ProvinceClient, ProvinceError
from controller.province.mock import MockProvince, create_app
from tests.province.conftest import make_deliveries


def _cert(subject: str, issuer_key, issuer_name, key, ca: bool):
    now = dt.datetime.now(dt.UTC)
    b = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
         .issuer_name(issuer_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                            critical=False)
    return b.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def https_province(tmp_path):
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "So TTTT thu nghiem")])
    ca = _cert("So TTTT thu nghiem", ca_key, ca_name, ca_key, ca=True)
    cert = _cert("127.0.0.1", ca_key, ca_name, key, ca=False)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    mock = MockProvince()
    server = make_server("127.0.0.1", 0, create_app(mock), threaded=True, ssl_context=ctx)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_port}", tmp_path / "ca.pem", mock
    server.shutdown()


def test_the_province_certificate_is_verified_against_the_configured_ca(linked, https_province, tmp_path):
    url, ca_file, mock = https_province
    link = linked.province
    make_deliveries(linked, 2, tmp_path)
    sender = link.sender
    untrusted = dataclasses.replace(link.settings, base_url=url)
    sender.client = ProvinceClient(untrusted, link.mapping, linked.data)
    with pytest.raises(ProvinceError, match="SSL"):
        sender.run_once()
    assert mock.logins == 0  # no password went to a server the commune could not verify
    (linked.data / "keys").mkdir(exist_ok=True)
    (linked.data / "keys" / "province-ca.pem").write_bytes(ca_file.read_bytes())
    trusted = dataclasses.replace(untrusted, ca_file="keys/province-ca.pem")
    sender.client = ProvinceClient(trusted, link.mapping, linked.data)
    assert sender.run_once() == 2 and len(mock.aired) == 2
