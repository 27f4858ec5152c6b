"""Throw-away PKI for the HomeWizard simulator.

HomeWizard devices present a certificate signed by the private "Appliance Access CA" whose only
identity is the subject CN ``appliance/<type>/<serial>``; there is no subjectAltName. Clients
verify it with ``hostname_checks_common_name = True`` and ``server_hostname=<identifier>``. We
mint the same shape here so the client code is exercised exactly as against a real meter.
"""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CertAuthority",
    "DeviceCertificate",
    "device_identifier",
    "generate_ca",
    "server_ssl_context",
]

_VALID_BEFORE = dt.timedelta(days=1)  # tolerate small clock skew between test processes
_VALID_FOR = dt.timedelta(days=365)


def device_identifier(serial: str, device_type: str = "p1dongle") -> str:
    """The TLS identity of a device, as in the mDNS ``id`` TXT record."""
    return f"appliance/{device_type}/{serial}"


def _new_key() -> ec.EllipticCurvePrivateKey:
    # P-256 keeps generation in the millisecond range, so every test can have its own CA.
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass(frozen=True)
class DeviceCertificate:
    """A device key and its leaf certificate (CN = identifier, no SAN)."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def identifier(self) -> str:
        attrs = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(attrs[0].value)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return _key_pem(self.key)

    def write(self, directory: Path) -> tuple[Path, Path]:
        """Write ``device.crt`` and ``device.key`` (mode 0600) and return their paths."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path = directory / "device.crt"
        key_path = directory / "device.key"
        cert_path.write_bytes(self.cert_pem)
        key_path.touch(mode=0o600)
        key_path.write_bytes(self.key_pem)
        return cert_path, key_path


@dataclass(frozen=True)
class CertAuthority:
    """A self-signed CA that can issue HomeWizard-style device certificates."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def write(self, path: Path) -> Path:
        """Write the CA certificate (PEM) to ``path``; the key never leaves memory."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.cert_pem)
        return path

    def issue_device(self, serial: str, device_type: str = "p1dongle") -> DeviceCertificate:
        """Issue a leaf for ``appliance/<device_type>/<serial>`` with no subjectAltName."""
        key = _new_key()
        now = dt.datetime.now(dt.UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HomeWizard"),
                x509.NameAttribute(NameOID.COMMON_NAME, device_identifier(serial, device_type)),
            ]
        )
        ca_ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _VALID_BEFORE)
            .not_valid_after(now + _VALID_FOR)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
            )
            .sign(self.key, hashes.SHA256())
        )
        return DeviceCertificate(key=key, cert=cert)


def generate_ca(common_name: str) -> CertAuthority:
    """Create a fresh self-signed CA, valid from yesterday for one year."""
    key = _new_key()
    now = dt.datetime.now(dt.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gridwatch simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    # The extensions satisfy VERIFY_X509_STRICT (default in Python 3.13+), not just 3.12.
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _VALID_BEFORE)
        .not_valid_after(now + _VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return CertAuthority(key=key, cert=cert)


def server_ssl_context(device: DeviceCertificate, directory: Path) -> ssl.SSLContext:
    """A TLS server context presenting ``device``; key/cert files are written into ``directory``.

    ``ssl`` can only load a key pair from files, hence the directory (owned by the caller).
    """
    cert_path, key_path = device.write(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    return context
