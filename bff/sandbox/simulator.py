"""The Simulator: all state of the embedded Kard API, safe to share across server threads."""

import secrets
import shutil
import tempfile
import time
import uuid
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bff.sandbox.auth import TokenStore, WebViewSigner
from bff.sandbox.calls import Call, CallLog
from bff.sandbox.catalog import Catalog
from bff.sandbox.catalog.offers import Offer
from bff.sandbox.catalog.rewards import Reward, earned_rewards
from bff.sandbox.documents.resources import Viewer
from bff.sandbox.enrollment import UserDirectory
from bff.sandbox.faults import FaultInjector
from bff.sandbox.state import OfferState, UserStore
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

DEFAULT_WEBHOOK_KEY = "sandbox-webhook-key"
PERSONAS = ("sandbox-demo-new-customer", "sandbox-demo-lapsed-customer")


class Simulator:
    """A stateful, deterministic stand-in for the Kard API."""

    def __init__(
        self,
        *,
        organization_id: str = "org-sandbox",
        access_token_ttl: int = 3600,
        webview_token_ttl: int = 3600,
        signing_key: str | bytes | None = None,
        upload_url_ttl: int = 900,
        results_url_ttl: int = 1800,
        webhook_key: str | bytes = DEFAULT_WEBHOOK_KEY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.organization_id = organization_id
        self.clock = clock
        self.faults = FaultInjector()
        self.tokens = TokenStore(access_token_ttl, clock)
        self.webview = WebViewSigner(
            signing_key or secrets.token_bytes(32), webview_token_ttl, clock
        )
        # Catalog dates and reward history hang off the UTC day the simulator started.
        self.anchor = datetime.fromtimestamp(clock(), UTC).replace(microsecond=0)
        self.catalog = Catalog.build(self.anchor.date())
        self.users = UserStore()
        # Kard's guide: the sandbox personas are enrolled from the start.
        self.directory = UserDirectory({organization_id: PERSONAS})
        self._calls = CallLog()
        # Uploaded files, results and accepted historical records live on disk, not in memory.
        self.workdir = Path(tempfile.mkdtemp(prefix="kard-simulator-"))
        self.history = HistoricalStore(self.workdir)
        weakref.finalize(self, _remove, self.history, self.workdir)
        self.upload_urls = PresignedUrls(UPLOADS_BUCKET, upload_url_ttl, clock)
        self.results_urls = PresignedUrls(RESULTS_BUCKET, results_url_ttl, clock)
        self.uploads = Uploads(self._process_file)
        self.legacy_uploads = LegacyUploads()
        self.subscriptions = SubscriptionStore()
        self.notifier = Notifier(webhook_key)

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
        users = [{"id": user_id, "attributes": {"enrolledRewards": ["CARDLINKED"]}}]
        self.directory.create(organization_id or self.organization_id, users)

    def attribution_events(self, user_id: str) -> list[dict[str, Any]]:
        """Return the attribution events accepted for the user, in arrival order."""
        return self.users.events(user_id)

    def rewards(self, user_id: str) -> list[Reward]:
        """Return the user's earned rewards, newest first."""
        return earned_rewards(self.catalog, user_id, self.anchor)

    def now(self) -> datetime:
        """Return the simulator clock's current UTC time."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def viewer(self, organization_id: str, user_id: str, requested: frozenset[str]) -> Viewer:
        """Return a renderer of offers for the user with the requested components."""
        redemptions: dict[str, int] = {}
        if "progressBar" in requested:
            for reward in self.rewards(user_id):
                redemptions[reward.offer.id] = redemptions.get(reward.offer.id, 0) + 1

        def state_of(offer: Offer) -> OfferState:
            return self.users.offer_state(user_id, offer.id, redemptions.get(offer.id, 0))

        return Viewer(organization_id, user_id, requested, state_of, self.now())

    def reset(self) -> None:
        """Clear faults, calls, issued tokens, per-user state, enrolled users (the personas
        stay), uploads and their results, historical records, subscriptions and the webhook log
        (the catalog stays)."""
        self.faults.clear()
        self._calls.clear()
        self.tokens.expire_all()
        self.users.clear()
        self.directory.clear()
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
        self.notifier.send(FILE_PROCESSING_RESULT, self._webhook_targets(file), payload)

    def _webhook_targets(self, file: ReceivedFile) -> list[Target]:
        """Send to the organization's subscribed URLs; else to the host app's own endpoint."""
        organization_id = file.session.organization_id
        urls = self.subscriptions.webhook_urls(organization_id, FILE_PROCESSING_RESULT)
        if urls:
            return [Target(url) for url in urls]
        if file.fallback_url is not None:
            return [Target.in_process(file.fallback_url, file.host_app)]
        return []


def _remove(history: HistoricalStore, workdir: Path) -> None:
    history.close()
    shutil.rmtree(workdir, ignore_errors=True)
