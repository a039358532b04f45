"""Settings from the environment: the one module that reads `os.environ`.

Every variable of the contract's configuration table is read and checked here, once, at start-up.
Every problem is collected, then one `ConfigError` names them all, so a start-up reports every
bad variable at once: one line per problem, each naming its variable and never quoting a secret.
"""

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bff.kard.vocabulary import COMPONENTS

ENVIRONMENTS = ("sandbox", "test", "production")
LOG_FORMATS = ("json", "text")
AUTH_MODES = ("jwks", "hs256", "dev")
# Not a value of BFF_AUTH_MODE: a host app embedding kard-bff names the user (`KardBFF`'s
# `user_loader`), from its own login.
HOST_AUTH_MODE = "host"
KARD_API_URLS = {
    "test": "https://test-rewards-api.getkard.com",
    "production": "https://rewards-api.getkard.com",
}
KARD_WEBVIEW_URLS = {
    "sandbox": "/sandbox/webview",
    "test": "https://webview-test-us-east-1.getkard.com/",
    "production": "https://webview-prod-us-east-1.getkard.com/",
}
SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-secret"
SANDBOX_ORGANIZATION_ID = "org-sandbox"
BUNDLED_THEMES_DIR = Path(__file__).parent / "themes" / "bundled"
MIN_HS256_SECRET_BYTES = 32
# BFF_SECRET_KEY signs CTA URLs and seals tokens kept in Redis: as long as an HS256 secret.
MIN_SECRET_KEY_BYTES = 32
_RATE_LIMIT = re.compile(r"^\s*(?P<count>\d{1,9})\s*/\s*(?P<unit>second|minute|hour)\s*$")
_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


class ConfigError(ValueError):
    """Configuration variables are missing or wrong; each of `problems` names its variable."""

    def __init__(self, *problems: str):
        self.problems = list(problems)
        if len(problems) == 1:
            super().__init__(problems[0])
        else:
            super().__init__("\n  ".join([f"{len(problems)} problems:", *problems]))


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one BFF process."""

    kard_env: str
    kard_api_url: str | None  # None: the simulator embedded in this process (sandbox only)
    kard_auth_url: str | None  # None: derived from the embedded simulator
    kard_client_id: str
    kard_client_secret: str
    kard_organization_id: str
    kard_target_issuer: str | None
    kard_webview_url: str
    public_url: str | None  # where apps reach this BFF; None: unknown (KARD_WEBVIEW_URL is a URL)
    kard_timeout: float
    kard_max_concurrency: int  # Kard calls one process has in flight at most
    kard_breaker_failures: int  # consecutive failed sends that open the circuit breaker
    kard_breaker_seconds: float  # how long it stays open first
    kard_webhook_keys: tuple[str, ...]  # the first signs forwards; all verify Kard's webhooks
    webhook_forward_url: str | None
    webhook_hook: str | None  # "package.module:function"
    webhook_max_attempts: int  # tries before a notification is a dead letter
    webhook_max_age: float  # seconds from its receipt after which a failure makes it one
    auth_mode: str  # one of AUTH_MODES, or HOST_AUTH_MODE
    jwks_url: str | None
    jwt_issuer: str | None
    jwt_audience: str | None
    jwt_secret: str | None
    user_claim: str
    supported_components: tuple[str, ...]
    cors_origins: tuple[str, ...]
    themes_dir: Path
    default_theme: str | None
    redis_url: str | None
    secret_keys: tuple[str, ...]  # BFF_SECRET_KEY: the first signs and seals; all verify
    rate_limit: str | None  # per session user, "300/minute"; None: off
    client_rate_limit: str | None  # per client address on the endpoints without a session
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    state_dir: Path
    outbox_max_user_events: int
    outbox_max_events: int
    outbox_max_attempts: int  # tries before a queued chunk is a dead letter
    outbox_max_age: float  # seconds from its storing after which a failure makes it one
    metrics_token: str | None  # what GET /metrics asks for as a bearer token
    log_format: str  # "json" or "text"

    @property
    def sandbox(self) -> bool:
        """Whether this process runs against the embedded Kard simulator's rules."""
        return self.kard_env == "sandbox"

    @property
    def metrics(self) -> bool:
        """Whether metrics are kept: when `/metrics` can be read (a token set, or sandbox)."""
        return self.sandbox or self.metrics_token is not None


def load_settings(
    environ: Mapping[str, str] | None = None, *, host_sessions: bool = False
) -> Settings:
    """Read and validate the settings from `environ` (the process environment by default);
    with `host_sessions`, a host app's login names the user and BFF_AUTH_MODE is not read."""
    env = _Reader(os.environ if environ is None else environ)
    # A bad value reads as None, and nothing is required on its account: no bogus problems.
    kard_env = env.choice("KARD_ENV", ENVIRONMENTS, default="sandbox")
    sandbox = kard_env == "sandbox"
    deployed = kard_env in ("test", "production")
    unless_sandbox = _when(deployed, f"KARD_ENV={kard_env}")

    auth_mode = (
        HOST_AUTH_MODE
        if host_sessions
        else env.choice(
            "BFF_AUTH_MODE", AUTH_MODES, default="dev" if sandbox else None, required=deployed
        )
    )
    if auth_mode == "dev" and deployed:
        auth_mode = env.problem(
            f"BFF_AUTH_MODE=dev is only allowed with KARD_ENV=sandbox, not {kard_env}"
        )
    jwks_url = env.url(
        "BFF_JWKS_URL", required_when=_when(auth_mode == "jwks", "BFF_AUTH_MODE=jwks")
    )
    jwt_secret = env.text(
        "BFF_JWT_SECRET", required_when=_when(auth_mode == "hs256", "BFF_AUTH_MODE=hs256")
    )
    if jwt_secret is not None and len(jwt_secret.encode()) < MIN_HS256_SECRET_BYTES:
        jwt_secret = env.problem(
            f"BFF_JWT_SECRET must be at least {MIN_HS256_SECRET_BYTES} bytes long"
        )

    webview_url = env.webview_url("KARD_WEBVIEW_URL", default=KARD_WEBVIEW_URLS.get(kard_env))
    settings = Settings(
        kard_env=kard_env,
        kard_api_url=env.url("KARD_API_URL", default=KARD_API_URLS.get(kard_env)),
        kard_auth_url=env.url("KARD_AUTH_URL", required_when=unless_sandbox),
        kard_client_id=env.text("KARD_CLIENT_ID", required_when=unless_sandbox)
        or SANDBOX_CLIENT_ID,
        kard_client_secret=env.text("KARD_CLIENT_SECRET", required_when=unless_sandbox)
        or SANDBOX_CLIENT_SECRET,
        kard_organization_id=env.path_segment("KARD_ORGANIZATION_ID", required_when=unless_sandbox)
        or SANDBOX_ORGANIZATION_ID,
        kard_target_issuer=env.text("KARD_TARGET_ISSUER"),
        kard_webview_url=webview_url,
        public_url=env.base_url(
            "BFF_PUBLIC_URL",
            default=f"http://127.0.0.1:{env.port('PORT', default=8000)}" if sandbox else None,
            required_when=_when(
                deployed and (webview_url or "").startswith("/"), "KARD_WEBVIEW_URL is a path"
            ),
        ),
        kard_timeout=env.positive_number("KARD_TIMEOUT", default=10.0),
        kard_max_concurrency=env.positive_integer("KARD_MAX_CONCURRENCY", default=64),
        kard_breaker_failures=env.positive_integer("KARD_BREAKER_FAILURES", default=5),
        kard_breaker_seconds=env.positive_number("KARD_BREAKER_SECONDS", default=5.0),
        kard_webhook_keys=env.items("KARD_WEBHOOK_KEY"),
        webhook_forward_url=env.url("BFF_WEBHOOK_FORWARD_URL"),
        webhook_hook=env.reference("BFF_WEBHOOK_HOOK"),
        webhook_max_attempts=env.positive_integer("BFF_WEBHOOK_MAX_ATTEMPTS", default=20),
        webhook_max_age=env.positive_number("BFF_WEBHOOK_MAX_AGE", default=86_400.0),
        auth_mode=auth_mode,
        jwks_url=jwks_url,
        jwt_issuer=env.text("BFF_JWT_ISSUER"),
        jwt_audience=env.text("BFF_JWT_AUDIENCE"),
        jwt_secret=jwt_secret,
        user_claim=env.text("BFF_USER_CLAIM") or "sub",
        supported_components=env.components("BFF_SUPPORTED_COMPONENTS"),
        cors_origins=env.origins("BFF_CORS_ORIGINS"),
        themes_dir=Path(env.text("BFF_THEMES_DIR") or BUNDLED_THEMES_DIR),
        default_theme=env.text("BFF_DEFAULT_THEME"),
        redis_url=env.redis_url("REDIS_URL"),
        secret_keys=env.secret_keys("BFF_SECRET_KEY"),
        rate_limit=env.rate_limit("BFF_RATE_LIMIT", default="300/minute"),
        client_rate_limit=env.rate_limit("BFF_CLIENT_RATE_LIMIT", default="1200/minute"),
        trusted_proxies=env.networks("BFF_TRUSTED_PROXIES"),
        state_dir=Path(env.text("BFF_STATE_DIR") or "instance"),
        outbox_max_user_events=env.positive_integer("BFF_OUTBOX_MAX_USER_EVENTS", default=10_000),
        outbox_max_events=env.positive_integer("BFF_OUTBOX_MAX_EVENTS", default=1_000_000),
        outbox_max_attempts=env.positive_integer("BFF_OUTBOX_MAX_ATTEMPTS", default=500),
        outbox_max_age=env.positive_number("BFF_OUTBOX_MAX_AGE", default=259_200.0),
        metrics_token=env.text("BFF_METRICS_TOKEN"),
        log_format=env.choice("BFF_LOG_FORMAT", LOG_FORMATS, default="text" if sandbox else "json"),
    )
    if env.problems:
        raise ConfigError(*env.problems)
    return settings


class _Reader:
    """Typed, validated access to one environment mapping; empty values count as unset.

    A missing or bad value is noted in `problems` and read as None, so that reading goes on and
    every problem is found in one pass.
    """

    def __init__(self, environ: Mapping[str, str]):
        self._environ = environ
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        """Note a problem (naming its variable, never quoting a secret); read the value as None."""
        self.problems.append(message)

    def text(self, name: str, *, required_when: str | None = None) -> str | None:
        """Return the trimmed value; `required_when` says why a missing value is an error."""
        value = self._environ.get(name, "").strip()
        if not value and required_when:
            return self.problem(f"{name} is required {required_when}")
        return value or None

    def path_segment(self, name: str, *, required_when: str | None = None) -> str | None:
        """A value that goes into Kard's paths as one segment, so never `.` or `..`."""
        value = self.text(name, required_when=required_when)
        if value in (".", ".."):
            return self.problem(f"{name} must be an ID, not {value!r}")
        return value

    def choice(
        self,
        name: str,
        choices: tuple[str, ...],
        *,
        default: str | None,
        required: bool = True,
    ) -> str | None:
        value = self.text(name) or default
        if value is None and required:
            return self.problem(f"{name} is required: one of {', '.join(choices)}")
        if value is not None and value not in choices:
            return self.problem(f"{name} must be one of {', '.join(choices)}, not {value!r}")
        return value

    def url(
        self, name: str, *, default: str | None = None, required_when: str | None = None
    ) -> str | None:
        value = self.text(name, required_when=required_when) or default
        if value is not None and not _is_http_url(value):
            return self.problem(f"{name} must be an absolute http(s) URL")
        return value.rstrip("/") if value else None

    def base_url(
        self, name: str, *, default: str | None = None, required_when: str | None = None
    ) -> str | None:
        value = self.url(name, default=default, required_when=required_when)
        if value is not None and not _is_base_url(value):
            return self.problem(
                f"{name} must be an absolute http(s) URL without a query or fragment"
            )
        return value

    def webview_url(self, name: str, *, default: str | None) -> str | None:
        value = self.text(name) or default
        if value is not None and not (value.startswith("/") or _is_http_url(value)):
            return self.problem(f"{name} must be an absolute http(s) URL or a path on this service")
        return value

    def positive_number(self, name: str, *, default: float) -> float | None:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 < value < float("inf"):
            return self.problem(f"{name} must be a positive number of seconds, not {raw!r}")
        return value

    def port(self, name: str, *, default: int) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 65535):
            self.problem(f"{name} must be a port number from 1 to 65535, not {raw!r}")
            return default  # so that nothing built from it reports a problem of its own
        return int(raw)

    def positive_integer(self, name: str, *, default: int) -> int | None:
        raw = self.text(name)
        if raw is None:
            return default
        if not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            return self.problem(f"{name} must be a positive whole number, not {raw!r}")
        return int(raw)

    def items(self, name: str) -> tuple[str, ...]:
        return comma_items(self._environ.get(name, ""))

    def reference(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and not _REFERENCE.match(value):
            return self.problem(f"{name} must name a function as package.module:function")
        return value

    def components(self, name: str) -> tuple[str, ...] | None:
        values = self.items(name) or COMPONENTS
        unknown = [value for value in values if value not in COMPONENTS]
        if unknown:
            return self.problem(
                f"{name} has unknown component {unknown[0]!r}; allowed: {', '.join(COMPONENTS)}"
            )
        return tuple(dict.fromkeys(values))

    def origins(self, name: str) -> tuple[str, ...] | None:
        values = tuple(value.rstrip("/") for value in self.items(name))
        bad = [value for value in values if not _ORIGIN.match(value)]
        if bad:
            return self.problem(
                f"{name} must list origins like https://app.example.com, not {bad[0]!r}"
            )
        return values

    def secret_keys(self, name: str) -> tuple[str, ...]:
        keys = self.items(name)
        if any(len(key.encode()) < MIN_SECRET_KEY_BYTES for key in keys):
            self.problem(f"{name}: every key must be at least {MIN_SECRET_KEY_BYTES} bytes long")
            return ()
        return keys

    def rate_limit(self, name: str, *, default: str) -> str | None:
        value = self.text(name) or default
        if value.strip() == "0":
            return None
        match = _RATE_LIMIT.match(value)
        if match is None or int(match["count"]) < 1:
            return self.problem(f"{name} must be N/second, N/minute or N/hour (N >= 1), or 0")
        return f"{int(match['count'])}/{match['unit']}"

    def networks(self, name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        try:
            return tuple(ipaddress.ip_network(item, strict=False) for item in self.items(name))
        except ValueError:
            self.problem(f"{name} must be a comma list of IP addresses or CIDR networks")
            return ()

    def redis_url(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            return self.problem(f"{name} must be a redis://, rediss:// or unix:// URL")
        return value


def comma_items(value: str) -> tuple[str, ...]:
    """The non-blank items of a comma-separated setting, trimmed (`KARD_WEBHOOK_KEY=new,old`)."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _when(condition: bool, reason: str) -> str | None:
    return f"when {reason}" if condition else None


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_base_url(value: str) -> bool:
    """Whether paths can be appended to `value`: no query or fragment, and a usable port."""
    try:
        port = urlsplit(value).port
    except ValueError:  # not a number, or out of range
        return False
    return port != 0 and "?" not in value and "#" not in value
