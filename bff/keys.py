"""The BFF's own keys: they sign the call-to-action URLs it hands out, seal the tokens it keeps
in Redis, and name its Redis keys. Pure: no Flask.

They come from `BFF_SECRET_KEY`, a comma list: the first signs and seals, and every one verifies
and opens, so a key can be rotated without breaking a URL already handed out or a token already
cached. When it is unset they come from `KARD_CLIENT_SECRET`, which every instance of a fleet
holds already (and whoever holds it can get Kard tokens anyway), so a fleet agrees on its keys
with no new setting. Each use gets its own key, derived with HKDF (RFC 5869), so a signature can
never be mistaken for a seal, nor a key name for either.
"""

import base64
import functools
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SIGNATURE_BYTES = 16  # 128 bits: far past guessing, and a short URL parameter
NAME_BYTES = 16
NAMES_REMEMBERED = 4096


class Keys:
    """Sign and verify, seal and open, and give opaque names, with the configured secrets."""

    def __init__(self, secrets: Sequence[str]):
        if not secrets:
            raise ValueError("at least one secret is needed")
        self._signing = [_derive(secret, b"kard-bff cta signature") for secret in secrets]
        self._sealing = MultiFernet(
            [
                Fernet(base64.urlsafe_b64encode(_derive(s, b"kard-bff sealed state")))
                for s in secrets
            ]
        )
        self._naming = _derive(secrets[0], b"kard-bff state names")
        # Names a process asks for again and again (each request's user, for its rate limit).
        self.name = functools.lru_cache(maxsize=NAMES_REMEMBERED)(self._name)

    def sign(self, message: str) -> str:
        """A base64url signature of `message`, with the first key."""
        return _encode(_mac(self._signing[0], message)[:SIGNATURE_BYTES])

    def verify(self, message: str, signature: str) -> bool:
        """Whether `signature` is one of `sign(message)` with any of the keys."""
        given = signature.encode()
        return any(
            hmac.compare_digest(given, _encode(_mac(key, message)[:SIGNATURE_BYTES]).encode())
            for key in self._signing
        )

    def seal(self, text: str) -> str:
        """`text` encrypted and authenticated (Fernet), with the first key."""
        return self._sealing.encrypt(text.encode()).decode()

    def open(self, sealed: str | bytes) -> str | None:
        """The text `seal` sealed with any of the keys; None if it was not, or was altered."""
        try:
            return self._sealing.decrypt(sealed).decode()
        except (InvalidToken, UnicodeDecodeError):
            return None

    def _name(self, text: str) -> str:
        """An opaque, stable name for `text` (a user ID, a token): nothing can be read back."""
        return _mac(self._naming, text)[:NAME_BYTES].hex()


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


def _mac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
