"""Settings: every variable validated at start-up, one line naming the variable, no secrets."""

import subprocess
import sys
from pathlib import Path

import pytest

from bff.settings import COMPONENTS, ConfigError, load_settings

SECRET = "s3cr3t-value-that-must-not-leak"
TEST_ENV = {
    "KARD_ENV": "test",
    "KARD_AUTH_URL": "https://issuer.getkard.com/v2/auth/token",
    "KARD_CLIENT_ID": "client-1",
    "KARD_CLIENT_SECRET": SECRET,
    "KARD_ORGANIZATION_ID": "org-1",
    "BFF_AUTH_MODE": "hs256",
    "BFF_JWT_SECRET": "x" * 32,
}


def test_sandbox_defaults_need_nothing():
    settings = load_settings({})
    assert settings.kard_env == "sandbox"
    assert settings.kard_api_url is None  # the embedded simulator
    assert settings.kard_organization_id == "org-sandbox"
    assert settings.auth_mode == "dev"
    assert settings.kard_webview_url == "/sandbox/webview"
    assert settings.kard_timeout == 10.0
    assert settings.supported_components == COMPONENTS
    assert settings.user_claim == "sub"
    assert settings.cors_origins == ()
    assert settings.redis_url is None
    assert settings.public_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("environ", "public_url"),
    [
        ({"PORT": "8001"}, "http://127.0.0.1:8001"),
        ({"PORT": "8001", "BFF_PUBLIC_URL": "http://10.0.0.5:9000"}, "http://10.0.0.5:9000"),
        (
            {"BFF_PUBLIC_URL": "https://rewards-bff.bank.example/"},
            "https://rewards-bff.bank.example",
        ),
        ({**TEST_ENV, "PORT": "8001"}, None),  # outside sandbox nothing is made up
        (
            {**TEST_ENV, "BFF_PUBLIC_URL": "https://bff.example/rewards"},
            "https://bff.example/rewards",
        ),
    ],
)
def test_the_public_url(environ, public_url):
    assert load_settings(environ).public_url == public_url


def test_test_environment_defaults():
    settings = load_settings(TEST_ENV)
    assert settings.kard_api_url == "https://test-rewards-api.getkard.com"
    assert settings.kard_webview_url == "https://webview-test-us-east-1.getkard.com/"


def test_production_defaults():
    settings = load_settings({**TEST_ENV, "KARD_ENV": "production"})
    assert settings.kard_api_url == "https://rewards-api.getkard.com"
    assert settings.kard_webview_url == "https://webview-prod-us-east-1.getkard.com/"


def test_lists_are_parsed():
    settings = load_settings(
        {
            "BFF_SUPPORTED_COMPONENTS": "cta, shortDescription,cta",
            "BFF_CORS_ORIGINS": "https://app.example.com, http://localhost:3000/",
            "KARD_WEBHOOK_KEY": "old,new",
            "KARD_TIMEOUT": "2.5",
        }
    )
    assert settings.supported_components == ("cta", "shortDescription")
    assert settings.cors_origins == ("https://app.example.com", "http://localhost:3000")
    assert settings.kard_webhook_keys == ("old", "new")
    assert settings.kard_timeout == 2.5


def test_kard_protection_defaults_and_values():
    defaults = load_settings({})
    assert (
        defaults.kard_max_concurrency,
        defaults.kard_breaker_failures,
        defaults.kard_breaker_seconds,
    ) == (64, 5, 5.0)
    settings = load_settings(
        {"KARD_MAX_CONCURRENCY": "8", "KARD_BREAKER_FAILURES": "3", "KARD_BREAKER_SECONDS": "0.5"}
    )
    assert (
        settings.kard_max_concurrency,
        settings.kard_breaker_failures,
        settings.kard_breaker_seconds,
    ) == (8, 3, 0.5)


def test_webhook_dead_letter_bounds_defaults_and_values():
    defaults = load_settings({})
    assert (defaults.webhook_max_attempts, defaults.webhook_max_age) == (20, 86_400.0)
    settings = load_settings({"BFF_WEBHOOK_MAX_ATTEMPTS": "3", "BFF_WEBHOOK_MAX_AGE": "0.5"})
    assert (settings.webhook_max_attempts, settings.webhook_max_age) == (3, 0.5)


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"KARD_ENV": "staging"}, "KARD_ENV"),
        ({"KARD_CLIENT_ID": ""}, "KARD_CLIENT_ID"),
        ({"KARD_CLIENT_SECRET": " "}, "KARD_CLIENT_SECRET"),
        ({"KARD_ORGANIZATION_ID": ""}, "KARD_ORGANIZATION_ID"),
        ({"KARD_ORGANIZATION_ID": ".."}, "KARD_ORGANIZATION_ID"),  # a dot segment in every path
        ({"KARD_AUTH_URL": ""}, "KARD_AUTH_URL"),
        ({"KARD_AUTH_URL": "issuer.getkard.com/token"}, "KARD_AUTH_URL"),
        ({"KARD_API_URL": "ftp://kard"}, "KARD_API_URL"),
        ({"KARD_WEBVIEW_URL": "webview"}, "KARD_WEBVIEW_URL"),
        ({"KARD_TIMEOUT": "soon"}, "KARD_TIMEOUT"),
        ({"KARD_TIMEOUT": "0"}, "KARD_TIMEOUT"),
        ({"KARD_TIMEOUT": "nan"}, "KARD_TIMEOUT"),
        ({"KARD_MAX_CONCURRENCY": "0"}, "KARD_MAX_CONCURRENCY"),
        ({"KARD_MAX_CONCURRENCY": "many"}, "KARD_MAX_CONCURRENCY"),
        ({"KARD_BREAKER_FAILURES": "-1"}, "KARD_BREAKER_FAILURES"),
        ({"KARD_BREAKER_FAILURES": "2.5"}, "KARD_BREAKER_FAILURES"),
        ({"KARD_BREAKER_SECONDS": "0"}, "KARD_BREAKER_SECONDS"),
        ({"KARD_BREAKER_SECONDS": "inf"}, "KARD_BREAKER_SECONDS"),
        ({"BFF_WEBHOOK_MAX_ATTEMPTS": "0"}, "BFF_WEBHOOK_MAX_ATTEMPTS"),
        ({"BFF_WEBHOOK_MAX_ATTEMPTS": "2.5"}, "BFF_WEBHOOK_MAX_ATTEMPTS"),
        ({"BFF_WEBHOOK_MAX_AGE": "-1"}, "BFF_WEBHOOK_MAX_AGE"),
        ({"BFF_WEBHOOK_MAX_AGE": "a day"}, "BFF_WEBHOOK_MAX_AGE"),
        ({"BFF_AUTH_MODE": ""}, "BFF_AUTH_MODE"),
        ({"BFF_AUTH_MODE": "dev"}, "BFF_AUTH_MODE"),
        ({"BFF_AUTH_MODE": "jwt"}, "BFF_AUTH_MODE"),
        ({"BFF_AUTH_MODE": "jwks"}, "BFF_JWKS_URL"),
        ({"BFF_JWT_SECRET": ""}, "BFF_JWT_SECRET"),
        ({"BFF_JWT_SECRET": "short"}, "BFF_JWT_SECRET"),
        ({"BFF_SUPPORTED_COMPONENTS": "cta,banner"}, "BFF_SUPPORTED_COMPONENTS"),
        ({"BFF_CORS_ORIGINS": "*"}, "BFF_CORS_ORIGINS"),
        ({"BFF_CORS_ORIGINS": "https://app.example.com/path"}, "BFF_CORS_ORIGINS"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"BFF_PUBLIC_URL": "rewards-bff.bank.example"}, "BFF_PUBLIC_URL"),
        ({"BFF_PUBLIC_URL": "https://bff.example/?x=1"}, "BFF_PUBLIC_URL"),
        ({"BFF_PUBLIC_URL": "https://bff.example?"}, "BFF_PUBLIC_URL"),
        ({"BFF_PUBLIC_URL": "https://bff.example/#top"}, "BFF_PUBLIC_URL"),
        ({"BFF_PUBLIC_URL": "https://bff.example:http"}, "BFF_PUBLIC_URL"),
        ({"KARD_WEBVIEW_URL": "/webview"}, "BFF_PUBLIC_URL"),  # a path needs a public URL
        ({"KARD_ENV": "sandbox", "PORT": "eighty"}, "PORT"),
        ({"KARD_ENV": "sandbox", "PORT": "65536"}, "PORT"),
    ],
)
def test_misconfiguration_names_the_variable(changes, variable):
    with pytest.raises(ConfigError) as caught:
        load_settings({**TEST_ENV, **changes})
    message = str(caught.value)
    assert message.startswith(variable)
    assert "\n" not in message
    assert SECRET not in message


def test_the_test_environment_alone_names_every_required_variable_at_once():
    with pytest.raises(ConfigError) as caught:
        load_settings({"KARD_ENV": "test"})
    assert caught.value.problems == [
        "BFF_AUTH_MODE is required: one of jwks, hs256, dev",
        "KARD_AUTH_URL is required when KARD_ENV=test",
        "KARD_CLIENT_ID is required when KARD_ENV=test",
        "KARD_CLIENT_SECRET is required when KARD_ENV=test",
        "KARD_ORGANIZATION_ID is required when KARD_ENV=test",
    ]
    assert str(caught.value).splitlines() == [
        "5 problems:",
        *(f"  {problem}" for problem in caught.value.problems),
    ]


def test_every_invalid_value_is_named_and_no_secret_is_quoted():
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {
                **TEST_ENV,
                "KARD_API_URL": "ftp://kard",
                "KARD_TIMEOUT": "soon",
                "BFF_JWT_SECRET": SECRET,
                "BFF_CORS_ORIGINS": "*",
                "REDIS_URL": "localhost:6379",
            }
        )
    assert [problem.split()[0] for problem in caught.value.problems] == [
        "BFF_JWT_SECRET",
        "KARD_API_URL",
        "KARD_TIMEOUT",
        "BFF_CORS_ORIGINS",
        "REDIS_URL",
    ]
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"BFF_AUTH_MODE": "jwt"}, "BFF_AUTH_MODE must be one of jwks, hs256, dev, not 'jwt'"),
        (
            {"BFF_AUTH_MODE": "dev"},
            "BFF_AUTH_MODE=dev is only allowed with KARD_ENV=sandbox, not test",
        ),
        ({"KARD_ENV": "staging", "KARD_AUTH_URL": "", "BFF_AUTH_MODE": ""}, "KARD_ENV"),
    ],
)
def test_a_bad_value_does_not_bring_bogus_problems_with_it(changes, problem):
    """What depends on a bad value (BFF_JWKS_URL on the auth mode, ...) is not checked."""
    environment = {**TEST_ENV, "BFF_JWT_SECRET": "", **changes}
    with pytest.raises(ConfigError) as caught:
        load_settings(environment)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(problem)


def _import_wsgi(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Start the app as `gunicorn wsgi:app` would, in a process of its own with `env`."""
    return subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=60,
    )


def test_start_up_stops_with_one_line():
    """A misconfigured process exits non-zero, saying one line that names the variable."""
    env = {**TEST_ENV, "PATH": "/usr/bin:/bin", "KARD_ENV": "production", "KARD_AUTH_URL": ""}
    result = _import_wsgi(env)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "kard-bff: configuration error: KARD_AUTH_URL is required when KARD_ENV=production"
    ]
    assert SECRET not in result.stderr


def test_start_up_names_every_problem_one_per_line():
    result = _import_wsgi({"PATH": "/usr/bin:/bin", "KARD_ENV": "test", "BFF_AUTH_MODE": "jwks"})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "kard-bff: configuration error: 5 problems:",
        "  BFF_JWKS_URL is required when BFF_AUTH_MODE=jwks",
        "  KARD_AUTH_URL is required when KARD_ENV=test",
        "  KARD_CLIENT_ID is required when KARD_ENV=test",
        "  KARD_CLIENT_SECRET is required when KARD_ENV=test",
        "  KARD_ORGANIZATION_ID is required when KARD_ENV=test",
    ]
