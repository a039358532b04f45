"""Schemathesis against a live sandbox `kard-bff serve`, loaded from the server's own
`/openapi.json`: what tests/test_fuzz.py runs in `make test` and `make fuzz` runs for longer.

The server is a process of its own on its own state directory, with the webhook key set and no
rate limits (a fuzzer past them would see nothing but 429s). Credentials go through
schemathesis's auth providers: a dev session token for every operation that needs the
`sessionToken` scheme, a WebView token for `webViewToken`, and Kard's `notify-signature` on the
webhook. Every answer is held to schemathesis's own checks and to ours
(`error_shape_and_request_id`); a `Tally` counts what was sent and what failed, for the figures
`make fuzz` prints (loaded as a pytest plugin there: `-p tests.fuzz_harness`).
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bff.webhooks.signature import sign
from tests.servers import ServerProcess

FUZZ_USER = "sandbox-demo-new-customer"  # a persona: enrolled, with offers to list and activate
WEBHOOK_KEY = "fuzz-webhook-key-that-is-long-enough-to-be-valid"
SEED = 20_261_202
SESSION_SCHEME = "sessionToken"
WEBVIEW_SCHEME = "webViewToken"
WEBHOOK_OPERATION = "receiveKardNotification"
LISTING = "listOffers"
ACTIVATION = "activateOffer"
# The answers that reject negative data: schemathesis's list, and the contract's 413 (a body or
# a batch over its limits).
REJECTIONS = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]


@dataclass(frozen=True)
class Budget:
    """How much to fuzz: fuzzed examples per operation, state machine scenarios and steps; and
    whether a failure stops its operation (shrunk to a small example) or is counted and passed."""

    examples: int
    scenarios: int
    steps: int
    keep_going: bool = False


BUDGETS = {
    "suite": Budget(examples=25, scenarios=25, steps=6),  # make test: under a minute here
    "long": Budget(examples=1500, scenarios=2500, steps=12, keep_going=True),  # make fuzz: ~10 min
}


@schemathesis.check
def error_shape_and_request_id(ctx, response, case) -> None:
    """Every answer carries X-Request-ID; every 4xx/5xx is `{"errors": [{"status", "title",
    "detail", ...}]}` with `status` the HTTP status as a string (the contract's one shape)."""
    if not any(response.headers.get("x-request-id", ())):  # headers: lowercase name -> values
        raise AssertionError("No X-Request-ID header")
    if response.status_code < 400:
        return
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"A {response.status_code} whose body is not JSON") from None
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        raise AssertionError(f"A {response.status_code} without a non-empty `errors` array")
    for index, error in enumerate(errors):
        if not isinstance(error, dict):
            raise AssertionError(f"errors[{index}] is not an object")
        if error.get("status") != str(response.status_code):
            expected = str(response.status_code)
            raise AssertionError(
                f"errors[{index}].status is {error.get('status')!r}, not {expected!r}"
            )
        for name in ("title", "detail"):
            if not isinstance(error.get(name), str) or not error[name]:
                raise AssertionError(f"errors[{index}].{name} is not a non-empty string")


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    error_shape_and_request_id,
]


@dataclass
class Tally:
    """What one run sent and found: answers per operation, failing checks, linked activations."""

    operations: list[str] = field(default_factory=list)  # every operation of the document
    answers: defaultdict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failed_checks: Counter[str] = field(default_factory=Counter)  # failing responses, by check
    # (check, operation, title, status) -> the first such failure, condensed, and its curl
    failures: dict[tuple[str, str, str, int], tuple[str, str]] = field(default_factory=dict)
    listed_offers: set[str] = field(default_factory=set)
    linked_activations: Counter[int] = field(default_factory=Counter)  # by status

    def record_call(self, case, response) -> None:
        """Count one answer and, for the offer chain, what it listed or activated."""
        self.answers[case.operation.label][response.status_code] += 1
        operation_id = case.operation.definition.raw.get("operationId")
        if operation_id == LISTING and response.status_code == 200:
            self.listed_offers.update(_offer_ids(response))
        offer_id = (case.path_parameters or {}).get("offerId")
        if operation_id == ACTIVATION and offer_id in self.listed_offers:
            self.linked_activations[response.status_code] += 1

    def record_results(self, case, response, results) -> None:
        """Count the checks that failed on one response."""
        for result in results:
            if result.failure is None:
                continue
            self.failed_checks[result.name] += 1
            key = (result.name, case.operation.label, result.failure.title, response.status_code)
            if key not in self.failures:
                message = " / ".join(line for line in result.failure.message.splitlines() if line)
                curl = case.as_curl_command(headers=dict(response.request.headers))
                self.failures[key] = (message[:300], curl)

    @property
    def failed(self) -> bool:
        """Whether any check failed."""
        return bool(self.failures)

    def figures(self) -> list[str]:
        """The run in lines: coverage, requests (by operation and status), failures by check."""
        covered = [label for label in self.operations if self.answers[label]]
        total = sum(sum(statuses.values()) for statuses in self.answers.values())
        lines = [
            f"operations covered: {len(covered)} of {len(self.operations)}",
            f"requests sent: {total}",
            *(f"    {label}: {_statuses(self.answers[label])}" for label in covered),
            f"activations of a listed offer: {_statuses(self.linked_activations)}",
        ]
        missed = [label for label in self.operations if not self.answers[label]]
        if missed:
            lines.append(f"never called: {', '.join(missed)}")
        if not self.failures:
            lines.append("failures: none")
        for check in sorted({check for check, *_ in self.failures}):
            distinct = sorted(key for key in self.failures if key[0] == check)
            lines.append(
                f"failures of {check}: {len(distinct)} distinct,"
                f" on {self.failed_checks[check]} responses"
            )
            for key in distinct:
                _, operation, title, status = key
                message, curl = self.failures[key]
                lines += [f"    {operation} -> {status}: {title}: {message}", f"        {curl}"]
        return lines


def _statuses(counts: Counter[int]) -> str:
    listed = ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
    return f"{sum(counts.values())} ({listed})" if counts else "0"


def _offer_ids(response) -> Iterator[str]:
    try:
        data = json.loads(response.content).get("data")
    except (ValueError, AttributeError):
        return
    for offer in data if isinstance(data, list) else ():
        if isinstance(offer, dict) and isinstance(offer.get("id"), str):
            yield offer["id"]


def sandbox_env(state_dir: Path) -> dict[str, str]:
    """The environment of a sandbox BFF to fuzz: its own state, the webhook live, no limits."""
    env = {
        **os.environ,
        "KARD_ENV": "sandbox",
        "BFF_STATE_DIR": str(state_dir),
        "HOME": str(state_dir),
        "KARD_WEBHOOK_KEY": WEBHOOK_KEY,
        "BFF_RATE_LIMIT": "0",
        "BFF_CLIENT_RATE_LIMIT": "0",
        "BFF_LOG_FORMAT": "text",
    }
    for name in ("REDIS_URL", "KARD_API_URL", "KARD_AUTH_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        env.pop(name, None)
    return env


@contextmanager
def sandbox_server(state_dir: Path) -> Iterator[ServerProcess]:
    """A `kard-bff serve` sandbox on a free port, its log in `state_dir/server.log`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(["serve"], env=sandbox_env(state_dir), log=state_dir / "server.log")
    with server:
        yield server


def load_schema(url: str, budget: Budget, tally: Tally) -> schemathesis.BaseSchema:
    """The server's own API description, with our credentials, budget and counters attached."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": url,
            "generation": {"mode": "all", "max-examples": budget.examples, "database": "none"},
            "checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}},
            # The links' chain needs answers that worked; negative data is the stateless part's.
            "phases": {"stateful": {"max-steps": budget.steps, "generation": {"mode": "positive"}}},
            "output": {"sanitization": {"enabled": False}},  # sandbox tokens: shown in reports
        }
    )
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=config)
    tally.operations = [result.ok().label for result in schema.get_all_operations()]
    requiring = schemathesis.openapi.require_security_scheme
    schema.auth().apply_to(requiring(SESSION_SCHEME))(SessionToken)
    schema.auth().apply_to(requiring(WEBVIEW_SCHEME))(WebViewToken)
    schema.auth(refresh_interval=None).apply_to(operation_id=WEBHOOK_OPERATION)(KardSignature)

    @schema.hook
    def after_call(context, case, response) -> None:
        tally.record_call(case, response)

    @schema.hook
    def after_validate(context, case, response, results) -> None:
        tally.record_results(case, response, results)

    return schema


class SessionToken:
    """A session token of the fuzzing user, from the sandbox's own `POST /dev/session`."""

    def get(self, case, ctx) -> str:
        return _session_token(ctx.operation.schema.get_base_url())

    def set(self, case, data: str, ctx) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


class WebViewToken:
    """A Kard WebView token of the fuzzing user (what the stand-in WebView's own calls take)."""

    def get(self, case, ctx) -> str:
        base = ctx.operation.schema.get_base_url()
        answer = requests.post(
            f"{base}/api/v1/webview/token",
            headers={"Authorization": f"Bearer {_session_token(base)}"},
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()["token"]

    def set(self, case, data: str, ctx) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


class KardSignature:
    """Kard's `notify-signature` over the body, as Kard's Node recipe computes it (the compact
    JSON, which the BFF accepts besides the raw body's digest). Left as generated when the
    headers are the negative part of a case: that case is about a bad signature."""

    def get(self, case, ctx) -> str:
        return WEBHOOK_KEY

    def set(self, case, data: str, ctx) -> None:
        if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
            return
        case.headers = {**(case.headers or {}), "notify-signature": sign(data, _signed(case.body))}


def _signed(body: object) -> bytes:
    """What Kard signs for a generated body: its compact JSON, or the raw bytes it is sent as."""
    if isinstance(body, NotSet):
        return b""
    if isinstance(body, bytes):
        return body
    compact = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)
    return compact.encode("utf-8", "backslashreplace")


def _session_token(base_url: str) -> str:
    answer = requests.post(f"{base_url}/dev/session", json={"userId": FUZZ_USER}, timeout=10)
    answer.raise_for_status()
    return answer.json()["token"]


def offer_workflow(schema: schemathesis.BaseSchema, budget: Budget) -> type:
    """The state machine of the document's links (list offers -> activate, boost or view the
    first one; a dev session -> the offers list), every step held to `CHECKS`."""

    # Seeded, not derandomized: Hypothesis would derive the seed from this class's source.
    @hypothesis.seed(SEED)
    class OfferWorkflow(schema.as_state_machine()):
        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            with failures_kept(budget):
                case.validate_response(
                    response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder
                )

    return OfferWorkflow


@contextmanager
def failures_kept(budget: Budget) -> Iterator[None]:
    """Let a failed check through when the budget keeps going (the tally has it already)."""
    try:
        yield
    except FailureGroup:
        if not budget.keep_going:
            raise


def stateful_settings(budget: Budget) -> hypothesis.settings:
    """Hypothesis settings of a bounded, reproducible state machine run."""
    return hypothesis.settings(
        max_examples=budget.scenarios,
        stateful_step_count=budget.steps,
        derandomize=False,  # the machine is seeded (CI's Hypothesis profile derandomizes)
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.generate],
    )


# As a pytest plugin (`-p tests.fuzz_harness`, what `make fuzz` does): the budget option and
# the figures at the end of the run.

TALLIES = pytest.StashKey[dict[str, Tally]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-budget",
        choices=sorted(BUDGETS),
        default="suite",
        help="How much tests/test_fuzz.py fuzzes (make fuzz: long).",
    )


def budget_of(config: pytest.Config) -> Budget:
    """The budget this pytest run asked for (`suite` unless this plugin set another)."""
    return BUDGETS[config.getoption("fuzz_budget", default="suite")]


def tally_for(config: pytest.Config, name: str) -> Tally:
    """The run's tally called `name`, kept where the plugin's summary finds it."""
    return config.stash.setdefault(TALLIES, {}).setdefault(name, Tally())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A budget that keeps going passes its tests; what they found still fails the run.
    tallies = session.config.stash.get(TALLIES, {}).values()
    if exitstatus == pytest.ExitCode.OK and any(tally.failed for tally in tallies):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    tallies = config.stash.get(TALLIES, {})
    for name, tally in tallies.items():
        terminalreporter.write_sep("-", f"fuzz figures: {name}")
        for line in tally.figures():
            terminalreporter.write_line(line)
    if budget_of(config).keep_going and any(tally.failed for tally in tallies.values()):
        terminalreporter.write_line("The run fails: the failures above were counted, not raised.")
