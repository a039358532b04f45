"""The Simulator: all state of the embedded Kard API, safe to share across server threads."""

import secrets
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bff.sandbox.auth import Client, TokenStore, WebViewSigner
from bff.sandbox.calls import Call, CallLog
from bff.sandbox.catalog import Catalog
from bff.sandbox.catalog.offers import Offer
from bff.sandbox.documents.resources import Viewer, iso
from bff.sandbox.enrollment import UserDirectory, validated_users
from bff.sandbox.errors import KardError, error_object, item_errors
from bff.sandbox.faults import FaultInjector
from bff.sandbox.lifecycle import notifications
from bff.sandbox.lifecycle.audits import AuditStore
from bff.sandbox.lifecycle.files import ReconciliationFile, reconciliation_files
from bff.sandbox.lifecycle.incoming import TRANSACTION, fraud_problems, item_problems
from bff.sandbox.lifecycle.ledger import Ledger, Reward
from bff.sandbox.lifecycle.process import Lifecycle, Notification
from bff.sandbox.state import UserStore
from bff.sandbox.uploads.bulk import (
    FILE_PROCESSING_RESULT,
    RESULTS_BUCKET,
    UPLOADS_BUCKET,
    ReceivedFile,
    Uploads,
    notification,
    results_resource,
)
from bff.sandbox.uploads.historical import HistoricalStore
from bff.sandbox.uploads.ingest import ingest
from bff.sandbox.uploads.legacy import LegacyUploads
from bff.sandbox.uploads.presigned import PresignedUrls
from bff.sandbox.uploads.subscriptions import SubscriptionStore
from bff.sandbox.uploads.webhooks import Delivery, Notifier, Target
from bff.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_ORGANIZATION_ID

DEFAULT_WEBHOOK_KEY = "sandbox-webhook-key"
FILES_BUCKET = "kard-files"
PERSONAS = ("sandbox-demo-new-customer", "sandbox-demo-lapsed-customer")


class Simulator:
    """A stateful, deterministic stand-in for the Kard API."""

    def __init__(
        self,
        *,
        organization_id: str = SANDBOX_ORGANIZATION_ID,
        client_id: str = SANDBOX_CLIENT_ID,
        client_secret: str = SANDBOX_CLIENT_SECRET,
        target_issuers: tuple[str, ...] = (),
        access_token_ttl: int = 3600,
        webview_token_ttl: int = 3600,
        signing_key: str | bytes | None = None,
        upload_url_ttl: int = 900,
        results_url_ttl: int = 1800,
        webhook_key: str | bytes = DEFAULT_WEBHOOK_KEY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.organization_id = organization_id
        self.client = Client(client_id, client_secret, organization_id, target_issuers)
        self.clock = clock
        self.faults = FaultInjector()
        self.tokens = TokenStore(access_token_ttl, clock)
        self.webview = WebViewSigner(
            signing_key or secrets.token_bytes(32), webview_token_ttl, clock
        )
        # Catalog dates hang off the UTC day the simulator started.
        self.catalog = Catalog.build(datetime.fromtimestamp(clock(), UTC).date())
        self.users = UserStore()
        # Kard's guide: the sandbox personas are enrolled from the start.
        self.directory = UserDirectory({organization_id: PERSONAS})
        self.ledger = Ledger()
        self.lifecycle = Lifecycle(self.catalog, self.users, self.ledger)
        self.audits = AuditStore()
        # The lifecycle's clock runs ahead of `clock` by what `advance_clock` added; tokens and
        # URLs keep expiring by `clock`, so a step of 30 days signs nobody out.
        self._clock_offset = 0.0
        # Where notifications go when no subscription names a URL: the host app's own webhook
        # (its path from the host's root), when the simulator is mounted in one (`init_app`)
        # that takes them; None: nowhere.
        self.host_webhook: str | None = "webhooks/kard"
        self._calls = CallLog()
        # Uploaded files, results and accepted historical records live on disk, not in memory.
        self.workdir = Path(tempfile.mkdtemp(prefix="kard-simulator-"))
        self.history = HistoricalStore(self.workdir)
        weakref.finalize(self, _remove, self.history, self.workdir)
        self.upload_urls = PresignedUrls(UPLOADS_BUCKET, upload_url_ttl, clock)
        self.results_urls = PresignedUrls(RESULTS_BUCKET, results_url_ttl, clock)
        # Get Files: "Temporary URL that provides direct access to download the file for 30 minutes"
        self.files_urls = PresignedUrls(FILES_BUCKET, 1800, clock)
        self.uploads = Uploads(self._process_file)
        self.legacy_uploads = LegacyUploads()
        self.subscriptions = SubscriptionStore()
        self.notifier = Notifier(webhook_key)
        self._clock_lock = threading.Lock()

    @property
    def webhook_key(self) -> str | bytes:
        """The key webhooks are signed with (`notify-signature`); settable."""
        return self.notifier.key

    @webhook_key.setter
    def webhook_key(self, key: str | bytes) -> None:
        self.notifier.key = key

    @property
    def webhooks(self) -> list[Delivery]:
        """Return every webhook sent (or found nowhere to go) so far, oldest first."""
        return self.notifier.deliveries

    def expire_upload_urls(self) -> None:
        """Expire every presigned upload URL issued so far."""
        self.upload_urls.expire_all()

    def wait_for_uploads(self, timeout: float = 30.0) -> None:
        """Return once every uploaded file is processed (its webhook sent); TimeoutError if not."""
        self.uploads.wait(timeout)

    def historical_transactions(self, user_id: str) -> list[dict[str, Any]]:
        """Return the historical transaction records accepted for the user, oldest first."""
        return self.history.records(user_id)

    def results_path(self, file_id: str) -> Path:
        """Return where the results document of an uploaded file is kept."""
        return self.workdir / f"{file_id}.results.json"

    @property
    def calls(self) -> list[Call]:
        """Return every request received so far, oldest first."""
        return self._calls.snapshot()

    def calls_to(self, path_regex: str, method: str | None = None) -> list[Call]:
        """Return the requests whose root-relative path matches `path_regex` (and `method`)."""
        return self._calls.matching(path_regex, method)

    def record_call(self, call: Call) -> None:
        """Log a request (its status is filled in when the answer is known)."""
        self._calls.append(call)

    def expire_access_tokens(self) -> None:
        """Invalidate every access token issued so far."""
        self.tokens.expire_all()

    def verify_webview_token(self, token: str) -> dict[str, Any]:
        """Return a WebView token's claims; raise a jwt.InvalidTokenError subclass if invalid."""
        return self.webview.verify(token)

    def enroll(self, user_id: str, organization_id: str | None = None) -> None:
        """Enroll a user in CARDLINKED rewards, as Create Users would (tests and tools)."""
        user = {"type": "user", "id": user_id, "attributes": {"enrolledRewards": ["CARDLINKED"]}}
        users = validated_users({"data": [user]})
        self.directory.create(organization_id or self.organization_id, users)

    def attribution_events(self, user_id: str) -> list[dict[str, Any]]:
        """Return the attribution events accepted for the user, in arrival order."""
        return self.users.events(user_id)

    def rewards(self, user_id: str, organization_id: str | None = None) -> list[Reward]:
        """Return the user's rewards, pending and settled, newest first."""
        return self.ledger.rewards(organization_id or self.organization_id, user_id)

    def now(self) -> datetime:
        """Return the simulated clock's current UTC time (the clock, plus what was advanced)."""
        return datetime.fromtimestamp(self.clock() + self._clock_offset, UTC)

    def advance_clock(self, seconds: float, fallback: Target | None = None) -> datetime:
        """Move the simulated clock on by `seconds`, paying every reward that falls due (its
        earnedRewardSettled sent); return the new time."""
        if not seconds >= 0:
            raise ValueError("the clock only moves forward")
        with self._clock_lock:
            self._clock_offset += seconds
        self._post(self.lifecycle.pay_due(self.now()), fallback)
        return self.now()

    def receive_transactions(
        self, organization_id: str, items: list[Any], fallback: Target | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        """Create Incoming Transactions: check each event, apply each new valid one to the
        lifecycle (its notifications posted); return how many were taken, and the errors."""
        now = self.now()
        taken, errors = 0, []
        for index, item in enumerate(items):
            problems = item_problems(item, now)
            if not problems:
                user_id = item["attributes"]["userId"]
                if not self.directory.is_enrolled(organization_id, user_id):
                    problems = [("/attributes/userId", f"User {user_id} is not enrolled")]
            if problems:
                errors += item_errors(index, item, problems)
            elif not self.ledger.claim_event(
                organization_id, item["id"], item["attributes"]["transactionId"], user_id
            ):
                detail = f"Transaction event {item['id']} was already received"
                errors.append(error_object(409, detail, resource_id=item["id"]))
            else:
                taken += 1
                self._post(self.lifecycle.apply(organization_id, item), fallback)
        self._post(self.lifecycle.pay_due(now), fallback)
        return taken, errors

    def purchase(
        self,
        user_id: str,
        offer_id: str,
        amount_cents: int = 5000,
        organization_id: str | None = None,
        fallback: Target | None = None,
    ) -> tuple[dict[str, Any], Reward | None]:
        """Make a test purchase at the offer's merchant, as the issuer would report it: one
        settled (single message) card transaction, now. Return it and the reward it earned."""
        organization_id = organization_id or self.organization_id
        offer = self.catalog.offers_by_id.get(offer_id)
        if offer is None:
            raise KardError(404, f"Offer {offer_id} does not exist", pointer="/offerId")
        transaction = test_purchase(user_id, offer, amount_cents, self.now())
        _, errors = self.receive_transactions(organization_id, [transaction], fallback)
        if errors:
            raise KardError(400, errors[0]["detail"], errors=errors)
        reward = self.ledger.get(organization_id, transaction["attributes"]["transactionId"])
        return transaction, reward

    def open_audit(self, organization_id: str, user_id: str, audit: dict[str, Any]) -> str | None:
        """Open an audit of the user's transaction; its ID, or None if it has one already."""
        return self.audits.open(organization_id, user_id, audit)

    def resolve_audit(
        self,
        audit_id: str,
        code: int,
        description: str,
        fallback: Target | None = None,
    ) -> dict[str, Any]:
        """Close an audit as Kard's team would, sending its auditUpdate; return it."""
        now = self.now()
        audit = self.audits.resolve(audit_id, code, description, now)
        payload = notifications.audit_update(audit, now)
        self._post([(audit["organizationId"], payload)], fallback)
        return audit

    def reconciliation_files(self, organization_id: str) -> list[ReconciliationFile]:
        """Return the reconciliation files Kard has sent the organization by now, oldest first."""
        return reconciliation_files(
            organization_id, self.ledger.rewards(organization_id), self.now()
        )

    def flag_fraud(
        self, organization_id: str, items: list[Any], fallback: Target | None = None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Flag Fraudulent Transactions: check each marker; each transaction the user sent is
        never rewarded (a pending reward fails, a settled one is clawed back); return (flagged,
        errors)."""
        flagged, errors = [], []
        for index, item in enumerate(items):
            problems = fraud_problems(item)
            if problems:
                errors += item_errors(index, item, problems)
                continue
            transaction_id, user_id = item["id"], item["attributes"]["userId"]
            if self.ledger.sender(organization_id, transaction_id) != user_id:
                detail = f"Transaction {transaction_id} of user {user_id} was not received"
                errors.append(error_object(400, detail, resource_id=transaction_id))
                continue
            flagged.append(item)
            self._post(self.lifecycle.flag_fraud(organization_id, transaction_id), fallback)
        return flagged, errors

    def wait_for_notifications(self, timeout: float = 30.0) -> None:
        """Return once every notification posted so far was sent; TimeoutError if not."""
        self.notifier.wait(timeout)

    def viewer(self, organization_id: str, user_id: str, requested: frozenset[str]) -> Viewer:
        """Return a renderer of offers for the user with the requested components."""
        state_of = self.lifecycle.state_of(organization_id, user_id)
        return Viewer(organization_id, user_id, requested, state_of, self.now())

    def reset(self) -> None:
        """Clear faults, calls, issued tokens, per-user state, enrolled users (the personas
        stay), rewards, audits, the clock's advance, uploads and their results, historical
        records, subscriptions and the webhook log (the catalog stays)."""
        self.faults.clear()
        self._calls.clear()
        self.tokens.expire_all()
        self.users.clear()
        self.directory.clear()
        self.ledger.clear()
        self.audits.clear()
        with self._clock_lock:
            self._clock_offset = 0.0
        self.uploads.clear()
        for results in self.workdir.glob("*.results.json"):
            results.unlink(missing_ok=True)
        self.legacy_uploads.clear()
        self.history.clear()
        self.subscriptions.clear()
        self.notifier.clear()

    def _process_file(self, file: ReceivedFile) -> None:
        """Ingest an uploaded file, publish its results, and send the fileProcessingResult."""
        session = file.session
        result_id = str(uuid.uuid4())
        results = self.results_path(session.id)
        partial = results.with_suffix(".partial")

        def store(rows: list[tuple[str, str, str]]) -> int:
            return self.history.add(rows, file.check_current)

        try:
            with partial.open("wb") as out:
                resource = results_resource(session, result_id)
                ingest(file.body, session.file_type, out, resource, store, self.now(), file.outcome)
            file.check_current()
            partial.replace(results)
        finally:
            partial.unlink(missing_ok=True)
        file.processed_at = self.now()
        file.results_url = self.results_urls.url(file.root_url, "GET", f"{session.id}/results.json")
        payload = notification(file, result_id, file.processed_at, file.results_url)
        file.check_current()
        targets = self._targets(session.organization_id, FILE_PROCESSING_RESULT, file.fallback)
        self.notifier.send(FILE_PROCESSING_RESULT, targets, payload)

    def _post(self, sent: list[Notification], fallback: Target | None) -> None:
        for organization_id, payload in sent:
            event = payload["data"]["type"]
            self.notifier.post(event, self._targets(organization_id, event, fallback), payload)

    def _targets(self, organization_id: str, event: str, fallback: Target | None) -> list[Target]:
        """Send to the organization's subscribed URLs; else to the host app's own endpoint."""
        urls = self.subscriptions.webhook_urls(organization_id, event)
        if urls:
            return [Target(url) for url in urls]
        return [fallback] if fallback is not None else []


def test_purchase(user_id: str, offer: Offer, amount_cents: int, now: datetime) -> dict:
    """A single-message card purchase at the offer's merchant, settled `now`."""
    stamp = iso(now)
    transaction_id = f"sandbox-purchase-{uuid.uuid4()}"
    return {
        "type": TRANSACTION,
        "id": transaction_id,
        "attributes": {
            "userId": user_id,
            "transactionId": transaction_id,
            "amount": amount_cents,
            "currency": "USD",
            "status": "SETTLED",
            "direction": "DEBIT",
            "paymentType": "CARD",
            "description": offer.name,
            "merchant": {"name": offer.name},
            "cardBIN": "123456",
            "cardLastFour": "4321",
            "authorizationDate": stamp,
            "settledDate": stamp,
        },
    }


def _remove(history: HistoricalStore, workdir: Path) -> None:
    history.close()
    shutil.rmtree(workdir, ignore_errors=True)
