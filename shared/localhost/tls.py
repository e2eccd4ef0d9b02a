"""The local host's TLS: a certificate authority of its own and a server certificate for
127.0.0.1 and localhost, made once under $MLCYCLE_HOME/tls and kept while they are good.

azure-ai-ml speaks HTTPS only, so the local host answers TLS on its own port beside plain
HTTP (http_server tells them apart by the first byte). Clients trust it through a bundle
that holds the system's authorities and this one, which `REQUESTS_CA_BUNDLE` names.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from shared.private_files import private_dir

VALID_DAYS = 825  # the most a server certificate may live for Apple's and others' checks
RENEW_DAYS = 30  # made again when fewer days than this are left


@dataclass(frozen=True)
class TlsFiles:
    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.folder / "server-key.pem"

    @property
    def bundle(self) -> Path:
        """The system's authorities and mlcycle's, for REQUESTS_CA_BUNDLE."""
        return self.folder / "ca-bundle.pem"


def ensure_certificates(home: Path) -> TlsFiles:
    """The certificate files under home/tls, made (again) when missing or near expiry.
    The CA's private key is not kept: nothing signs with it after this call."""
    files = TlsFiles(home / "tls")
    if not _still_good(files):
        _make(files)
    return files


def server_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.server_cert, files.server_key)
    return context


def _still_good(files: TlsFiles) -> bool:
    from cryptography import x509

    paths = (files.ca_cert, files.server_cert, files.server_key, files.bundle)
    if not all(p.is_file() for p in paths):
        return False
    try:
        cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    except ValueError:
        return False
    left = cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    return left > datetime.timedelta(days=RENEW_DAYS)


def _make(files: TlsFiles) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mlcycle local CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
             x509.IPAddress(ipaddress.ip_address("::1")), x509.DNSName("localhost")]
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
              .add_extension(x509.SubjectAlternativeName(names), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
    private_dir(files.folder)  # and the home above it, if this makes it
    os.chmod(files.folder, 0o700)
    pem = serialization.Encoding.PEM
    _write(files.server_key, key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    _write(files.server_cert, server.public_bytes(pem))
    _write(files.ca_cert, ca.public_bytes(pem))
    _write(files.bundle, _system_authorities() + b"\n" + ca.public_bytes(pem))


def _system_authorities() -> bytes:
    """What a client trusted before it was pointed at the bundle: certifi's list, which
    requests uses by default, else the system's own file."""
    try:
        import certifi

        return Path(certifi.where()).read_bytes()
    except ImportError:
        default = ssl.get_default_verify_paths().cafile
        return Path(default).read_bytes() if default and Path(default).is_file() else b""


def _write(path: Path, data: bytes) -> None:
    """Owner-only, renamed into place: a reader never sees half a key or a bundle."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(partial, path)
