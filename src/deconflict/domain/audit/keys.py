"""The broker's Ed25519 key: :class:`BrokerKey`, key ids, signatures and public keys as parties give them.

Pure: the key file lives in :mod:`deconflict.adapters.keys`.
"""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from deconflict.domain.audit.encoding import sha256_hex
from deconflict.domain.errors import ValidationError

KEY_ALG = "Ed25519"


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict standard base64, in its one canonical spelling; ``ValueError`` if it is not."""
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    # b64decode ignores the unused low bits of the last character, so several strings decode to
    # the same bytes; accepting only the canonical one keeps every altered string detectable.
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return raw


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_key_b64: str) -> str:
    """The first 16 hex digits of SHA-256 over the raw 32-byte public key."""
    return sha256_hex(_b64decode(public_key_b64))[:16]


class BrokerKey:
    """The broker's Ed25519 signing key. Its ``repr`` never shows the private half.

    >>> k = BrokerKey.generate()
    >>> verify_signature(k.public_key_b64(), b"hello", k.sign(b"hello"))
    True
    >>> BrokerKey.from_pem(k.to_pem()).key_id() == k.key_id()
    True
    """

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> BrokerKey:
        """A fresh random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes) -> BrokerKey:
        """Read an unencrypted PKCS8 PEM private key; :class:`ValidationError` on ``key`` otherwise."""
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except TypeError:
            # cryptography raises TypeError for an encrypted key given no password.
            raise ValidationError.at("key", "the private key is encrypted; the broker needs it unencrypted") from None
        except (ValueError, UnsupportedAlgorithm):
            raise ValidationError.at("key", "is not a PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValidationError.at("key", f"is a {type(key).__name__}, not an Ed25519 private key")
        return cls(key)

    def to_pem(self) -> bytes:
        """PKCS8 PEM, unencrypted (the file that holds it must be private)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_key_b64(self) -> str:
        """The raw 32-byte public key in standard base64: what parties pin."""
        return _b64encode(_raw_public(self._key.public_key()))

    def public_key_pem(self) -> bytes:
        """The public key as a SubjectPublicKeyInfo PEM (the other form :func:`load_public_key` reads)."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def key_id(self) -> str:
        """The first 16 hex digits of SHA-256 over the raw public key."""
        return sha256_hex(_raw_public(self._key.public_key()))[:16]

    def sign(self, data: bytes) -> str:
        """An Ed25519 signature over ``data``, in standard base64."""
        return _b64encode(self._key.sign(data))

    def __repr__(self) -> str:
        return f"BrokerKey(key_id={self.key_id()!r})"


def verify_signature(public_key_b64: str, data: bytes, signature_b64: str) -> bool:
    """True when ``signature_b64`` is a valid signature over ``data``; False for anything else, malformed included."""
    try:
        raw = _b64decode(public_key_b64)
        sig = _b64decode(signature_b64)
        if len(raw) != 32 or len(sig) != 64:
            return False
        Ed25519PublicKey.from_public_bytes(raw).verify(sig, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def load_public_key(text: str) -> str:
    """A public key given as raw base64 (32 bytes) or as a PEM SubjectPublicKeyInfo, as raw base64.

    >>> k = BrokerKey.generate()
    >>> load_public_key(k.public_key_pem().decode()) == load_public_key(k.public_key_b64()) == k.public_key_b64()
    True
    >>> load_public_key("hello")
    Traceback (most recent call last):
    ...
    deconflict.domain.errors.ValidationError: key: is neither base64 of a 32-byte Ed25519 key nor a PEM public key
    """
    s = text.strip()
    if s.startswith("-----BEGIN"):
        if "PRIVATE KEY" in s.split("\n", 1)[0]:
            raise ValidationError.at("key", "is a private key; give the broker's public key")
        try:
            key = serialization.load_pem_public_key(s.encode("ascii"))
        except (ValueError, UnsupportedAlgorithm):
            raise ValidationError.at("key", "is not a valid PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValidationError.at("key", f"is a {type(key).__name__}, not an Ed25519 public key")
        return _b64encode(_raw_public(key))
    try:
        raw = _b64decode(s)
    except ValueError:  # binascii.Error and UnicodeEncodeError are ValueErrors
        raw = b""
    if len(raw) != 32:
        raise ValidationError.at("key", "is neither base64 of a 32-byte Ed25519 key nor a PEM public key")
    return _b64encode(raw)
