"""S3 look-alikes: presigned URLs (signed, expiring by the simulator clock) and S3's XML errors."""

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

PATH_PREFIX = "/s3/"  # where the buckets are served, under the simulator root
ALGORITHM = "AWS4-HMAC-SHA256"
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_ACCESS_KEY = "SANDBOXKARDUPLOADS"
_SIGNED = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires")


class S3Error(Exception):
    """An error S3 answers as `<Error><Code>..</Code><Message>..</Message>..</Error>`."""

    def __init__(
        self, status: int, code: str, message: str, details: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})

    def xml(self) -> bytes:
        """Return the XML error document."""
        fields = {"Code": self.code, "Message": self.message, **self.details}
        inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in fields.items())
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{inner}</Error>'.encode()


class PresignedUrls:
    """Sign and check the presigned URLs of one bucket; expire them all at once on demand.

    `expire_all` retires the signing key: URLs signed with a retired key answer "Request has
    expired" (as S3 would once their time is up), while URLs no key signed answer
    SignatureDoesNotMatch.
    """

    def __init__(self, bucket: str, ttl: int, clock: Callable[[], float]) -> None:
        self.bucket = bucket
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(32)
        self._retired: list[bytes] = []

    def url(self, root: str, method: str, key: str, ttl: int | None = None) -> str:
        """Return the absolute presigned URL of `key` under `root` (the simulator's root URL)."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        params = {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": f"{_ACCESS_KEY}/{now:%Y%m%d}/us-east-1/s3/aws4_request",
            "X-Amz-Date": now.strftime(_DATE_FORMAT),
            "X-Amz-Expires": str(self.ttl if ttl is None else ttl),
            "X-Amz-SignedHeaders": "host",
        }
        with self._lock:
            signing_key = self._key
        params["X-Amz-Signature"] = _signature(signing_key, method, self.path(key), params)
        return f"{root}{quote(self.path(key))}?{urlencode(params)}"

    def path(self, key: str) -> str:
        """Return the root-relative path of an object."""
        return f"{PATH_PREFIX}{self.bucket}/{key}"

    def check(self, method: str, key: str, args: Mapping[str, str]) -> None:
        """Raise the S3Error S3 would answer for a request to `key` with these query args."""
        given = args.get("X-Amz-Signature")
        if not given or any(name not in args for name in _SIGNED):
            raise S3Error(403, "AccessDenied", "Access Denied")
        with self._lock:
            current, retired = self._key, list(self._retired)
        path = self.path(key)
        if any(_matches(k, method, path, args, given) for k in retired):
            raise _expired(args["X-Amz-Expires"], self._clock())
        if not _matches(current, method, path, args, given):
            raise S3Error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided."
                " Check your key and signing method.",
            )
        # The signature matched, so the date and lifetime are the ones this simulator signed.
        signed_at = datetime.strptime(args["X-Amz-Date"], _DATE_FORMAT).replace(tzinfo=UTC)
        if self._clock() >= signed_at.timestamp() + int(args["X-Amz-Expires"]):
            raise _expired(args["X-Amz-Expires"], self._clock())

    def expire_all(self) -> None:
        """Expire every URL signed so far."""
        with self._lock:
            self._retired.append(self._key)
            self._key = secrets.token_bytes(32)


def _signature(key: bytes, method: str, path: str, params: Mapping[str, str]) -> str:
    canonical = "\n".join([method.upper(), path, *(params.get(name, "") for name in _SIGNED)])
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _matches(key: bytes, method: str, path: str, args: Mapping[str, str], given: str) -> bool:
    return hmac.compare_digest(_signature(key, method, path, args), given)


def _expired(expires: str, now: float) -> S3Error:
    server_time = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    details = {"X-Amz-Expires": expires, "ServerTime": server_time}
    return S3Error(403, "AccessDenied", "Request has expired", details)
