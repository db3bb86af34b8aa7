"""The site's own certificate authority, made on the hub: it signs the broker's certificate, and every device
trusts it and nothing else, so nobody on the site network reads a password or forges the hub.

- ``ca.key`` (0600, never leaves the hub) and ``ca.crt`` (handed to every device with its credential);
- ``server.key`` and ``server.crt``: the broker's, for the names and addresses devices use to reach it;
- ``web.key`` and ``web.crt``: the coordinators' page's, for the same names (its key is the hub's, not the
  broker's, so each server reads its own key only).

Made with the `cryptography` package (EC P-256 keys, SHA-256): no openssl command line to get right.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from appliance.core.durable import write_atomic

CA_KEY, CA_CERT = "ca.key", "ca.crt"
SERVER, WEB = "server", "web"       # the stems of the broker's and the page's key and certificate files
CA_YEARS = 20            # the site's trust anchor: replacing it means visiting every Pi
# The longest a browser accepts for a server certificate (Apple's platforms refuse more), counted from its
# notBefore, which is backdated a day for a Pi whose clock is a little behind. Renewed within RENEW_BEFORE.
SERVER_DAYS = 825
BACKDATED = timedelta(days=1)
RENEW_BEFORE = timedelta(days=60)


@dataclass(frozen=True)
class ServerCertificate:
    names: tuple[str, ...]      # DNS names and IP addresses, as the certificate lists them
    not_after: datetime

    def due(self, now: datetime) -> bool:
        return now >= self.not_after - RENEW_BEFORE


def ensure_ca(folder: Path, site_name: str, *, now: datetime | None = None) -> Path:
    """The site CA in `folder`, made the first time; returns the path of its certificate."""
    folder = Path(folder)
    if (folder / CA_KEY).exists() and (folder / CA_CERT).exists():
        return folder / CA_CERT
    folder.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, site_name[:64]),
                      x509.NameAttribute(NameOID.COMMON_NAME, "turnero site CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATED).not_valid_after(now + timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write_key(folder / CA_KEY, key)
    _write_cert(folder / CA_CERT, cert)
    return folder / CA_CERT


def key_file(folder: Path, stem: str = SERVER) -> Path:
    return Path(folder) / f"{stem}.key"


def cert_file(folder: Path, stem: str = SERVER) -> Path:
    return Path(folder) / f"{stem}.crt"


def issue_server(folder: Path, names: list[str], *, stem: str = SERVER,
                 now: datetime | None = None) -> ServerCertificate:
    """A server's key and certificate (`stem`.key, `stem`.crt) in `folder`, signed by the CA there, for these
    host names and addresses (a new key each time: renewing is issuing again)."""
    folder = Path(folder)
    start = (now or datetime.now(timezone.utc)) - BACKDATED
    ca_key = serialization.load_pem_private_key((folder / CA_KEY).read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate((folder / CA_CERT).read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    unique = tuple(dict.fromkeys(names))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, unique[0][:64])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in unique]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write_key(key_file(folder, stem), key)
    _write_cert(cert_file(folder, stem), cert)
    return ServerCertificate(unique, _not_after(cert))


def server_certificate(folder: Path, stem: str = SERVER) -> ServerCertificate | None:
    """What a server's certificate in `folder` covers and until when; None if there is none."""
    try:
        cert = x509.load_pem_x509_certificate(cert_file(folder, stem).read_bytes())
    except (FileNotFoundError, ValueError):
        return None
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return ServerCertificate(tuple(str(n.value) for n in names), _not_after(cert))


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _not_after(cert: x509.Certificate) -> datetime:
    return cert.not_valid_after_utc


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    write_atomic(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()), mode=0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    # Public, and readable by all whatever the umask: Mosquitto loads its certificates after dropping to its
    # own user, and the roles read the CA's as theirs.
    write_atomic(path, cert.public_bytes(serialization.Encoding.PEM))
    path.chmod(0o644)
