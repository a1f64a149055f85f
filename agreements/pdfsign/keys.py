"""The key that seals agreements, and the certificates trusted when checking a seal.

Production gives a PKCS#12 file (``SIGNING_PKCS12_PATH``) issued by a real CA. Development,
demos and tests use a local demo CA whose names say NOT FOR PRODUCTION, so a document sealed
with it cannot pass for the real thing in a PDF reader.
"""

from __future__ import annotations

import datetime
import fcntl
import functools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID, ObjectIdentifier
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.sign import signers

DEMO_CA_NAME = "Alliance DEMO CA — NOT FOR PRODUCTION"
DEMO_SIGNER_NAME = "Alliance DEMO signing — NOT FOR PRODUCTION"
DEMO_ORGANISATION = "Alliance (demo)"

CA_FILE = "ca.pem"
PKCS12_FILE = "signing.p12"
PASSPHRASE_FILE = "passphrase.txt"  # noqa: S105 (a file name)
CA_KEY_FILE = "ca-key.pem"  # encrypted with the passphrase; lets demos issue more certificates

# Readers differ in which purpose they accept for document signatures: RFC 9336 is the
# standard one, Microsoft's and Adobe's are what Office and Acrobat look for.
DOCUMENT_SIGNING_PURPOSES = (
    ObjectIdentifier("1.3.6.1.5.5.7.3.36"),  # id-kp-documentSigning (RFC 9336)
    ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),  # Microsoft document signing
    ObjectIdentifier("1.2.840.113583.1.1.5"),  # Adobe Authentic Documents Trust
)


@dataclass(frozen=True)
class DemoKeys:
    """Where the demo CA and its signing certificate live, and whether this call made them."""

    directory: Path
    created: bool

    @property
    def ca_certificate(self) -> Path:
        return self.directory / CA_FILE

    @property
    def pkcs12(self) -> Path:
        return self.directory / PKCS12_FILE

    @property
    def ca_key(self) -> Path:
        return self.directory / CA_KEY_FILE

    @property
    def passphrase_file(self) -> Path:
        return self.directory / PASSPHRASE_FILE

    def passphrase(self) -> bytes:
        return self.passphrase_file.read_bytes().strip()


def create_demo_ca(directory: Path) -> DemoKeys:
    """Create the demo root CA and a signing certificate it issued, unless they exist.

    Two processes may reach first use together (a web worker and a Celery worker), so the
    check and the creation happen under a lock: both must end up with the same key.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _locked(directory / ".lock"):
        names = (CA_FILE, CA_KEY_FILE, PASSPHRASE_FILE, PKCS12_FILE)
        present = [name for name in names if (directory / name).exists()]
        if len(present) == len(names):
            return DemoKeys(directory=directory, created=False)
        if present:
            raise ImproperlyConfigured(
                f"The demo signing directory {directory} is incomplete (it has only "
                f"{', '.join(present)}); remove it to create a new demo CA."
            )
        ca_pem, ca_key_pem, pkcs12_data, passphrase = _issue_demo_keys()
        _write_private(directory / CA_FILE, ca_pem)
        _write_private(directory / CA_KEY_FILE, ca_key_pem)
        _write_private(directory / PASSPHRASE_FILE, passphrase + b"\n")
        _write_private(directory / PKCS12_FILE, pkcs12_data)
    return DemoKeys(directory=directory, created=True)


@functools.cache
def load_signer() -> signers.SimpleSigner:
    """The signer for seals: the production PKCS#12 file, else the demo CA's certificate.

    Cached per process, since reading a PKCS#12 file means a slow key derivation.
    """
    path: Path | None = settings.SIGNING_PKCS12_PATH
    if path is not None:
        passphrase: str | None = settings.SIGNING_PKCS12_PASSPHRASE
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise ImproperlyConfigured(
                f"SIGNING_PKCS12_PATH points to {str(path)!r}, which cannot be read: "
                f"{error.strerror}."
            ) from error
        return _signer_from_pkcs12(
            data, passphrase.encode() if passphrase else None, source="SIGNING_PKCS12_PATH"
        )

    demo_directory = Path(settings.SIGNING_DEMO_DIR)
    if not (settings.DEBUG or demo_directory.exists()):
        raise ImproperlyConfigured(
            "No signing key: set SIGNING_PKCS12_PATH (and SIGNING_PKCS12_PASSPHRASE or "
            "SIGNING_PKCS12_PASSPHRASE_FILE) to the organisation's PKCS#12 file, or run "
            "`manage.py signing_init` to create a demo CA for demos and tests."
        )
    keys = create_demo_ca(demo_directory)
    return _signer_from_pkcs12(
        keys.pkcs12.read_bytes(), keys.passphrase(), source=f"the demo CA in {demo_directory}"
    )


def trust_roots() -> list[asn1_x509.Certificate]:
    """The CAs a seal may chain to: the demo CA if there is one, the roots in the production
    PKCS#12 file, and the bundle in ``SIGNING_TRUST_ROOTS``. Never the operating system's
    list: which CAs count is the deployment's decision, written down in its settings.

    Read on every call (small files): a demo CA created after the first verification, or a
    bundle updated by the operator, counts at once."""
    roots: dict[bytes, asn1_x509.Certificate] = {}

    def add(certificates: list[asn1_x509.Certificate]) -> None:
        for certificate in certificates:
            roots.setdefault(certificate.sha256, certificate)

    demo_ca = Path(settings.SIGNING_DEMO_DIR) / CA_FILE
    if demo_ca.exists():
        add(list(load_certs_from_pemder_data(demo_ca.read_bytes())))
    if settings.SIGNING_PKCS12_PATH is not None:
        registry = load_signer().cert_registry
        add([certificate for certificate in registry if certificate.self_signed == "maybe"])
    bundle: Path | None = settings.SIGNING_TRUST_ROOTS
    if bundle is not None:
        try:
            data = Path(bundle).read_bytes()
        except OSError as error:
            raise ImproperlyConfigured(
                f"SIGNING_TRUST_ROOTS points to {str(bundle)!r}, which cannot be read: "
                f"{error.strerror}."
            ) from error
        add(list(load_certs_from_pemder_data(data)))
    return list(roots.values())


def clear_cache() -> None:
    """Forget the loaded signer (after changing settings in tests, or rotating the key)."""
    load_signer.cache_clear()


def issue_demo_certificate(
    keys: DemoKeys, *, common_name: str, organisation: str, passphrase: bytes
) -> bytes:
    """A PKCS#12 file (key, certificate, demo CA) for a document-signing certificate issued
    by the demo CA: an organisation's own certificate, for demos and tests."""
    ca_certificate = x509.load_pem_x509_certificate(keys.ca_certificate.read_bytes())
    ca_key = serialization.load_pem_private_key(
        keys.ca_key.read_bytes(), password=keys.passphrase()
    )
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    signing_key, certificate = _signing_certificate(
        ca_certificate=ca_certificate,
        ca_key=ca_key,
        common_name=common_name,
        organisation=organisation,
    )
    return _pkcs12(signing_key, certificate, ca_certificate, passphrase=passphrase)


def _issue_demo_keys() -> tuple[bytes, bytes, bytes, bytes]:
    """The demo CA's certificate and encrypted key (PEM), the signing PKCS#12 file, and the
    passphrase of both."""
    # EC P-256: a signature takes well under a millisecond, where RSA 2048 takes a few.
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(DEMO_CA_NAME, DEMO_ORGANISATION)
    now = datetime.datetime.now(datetime.UTC)
    ca_certificate = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=10 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(for_ca=True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    passphrase = secrets.token_urlsafe(32).encode()
    signing_key, signing_certificate = _signing_certificate(
        ca_certificate=ca_certificate,
        ca_key=ca_key,
        common_name=DEMO_SIGNER_NAME,
        organisation=DEMO_ORGANISATION,
    )
    return (
        ca_certificate.public_bytes(serialization.Encoding.PEM),
        ca_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        ),
        _pkcs12(signing_key, signing_certificate, ca_certificate, passphrase=passphrase),
        passphrase,
    )


def _signing_certificate(
    *,
    ca_certificate: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    common_name: str,
    organisation: str,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organisation))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        # Inside the CA's lifetime, which a validator checks along with the certificate's own.
        .not_valid_after(
            min(now + datetime.timedelta(days=5 * 365), ca_certificate.not_valid_after_utc)
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(for_ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(list(DOCUMENT_SIGNING_PURPOSES)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, certificate


def _key_usage(*, for_ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not for_ca,
        # RFC 5280 first called it nonRepudiation; pyHanko and Acrobat expect it on signers.
        content_commitment=not for_ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=for_ca,
        crl_sign=for_ca,
        encipher_only=False,
        decipher_only=False,
    )


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )


def _pkcs12(
    key: ec.EllipticCurvePrivateKey,
    certificate: x509.Certificate,
    ca_certificate: x509.Certificate,
    *,
    passphrase: bytes,
) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        name=None,
        key=key,
        cert=certificate,
        cas=[ca_certificate],
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
    )


def _signer_from_pkcs12(
    data: bytes, passphrase: bytes | None, *, source: str
) -> signers.SimpleSigner:
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(data, (), passphrase=passphrase)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"The PKCS#12 file of {source} cannot be opened: wrong passphrase or not a "
            "PKCS#12 file."
        ) from error
    assert isinstance(signer, signers.SimpleSigner)
    return signer


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file that only the owner may read, whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
