"""Notification subscriptions: which webhook URL receives each event type, per organization."""

import threading
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bff.sandbox.errors import KardError, error_object
from bff.sandbox.validation import BodyErrors, data_array

# NotificationType, from Create/Get/Update Subscription(s).
EVENT_NAMES = (
    "earnedRewardApproved",
    "earnedRewardSettled",
    "validTransaction",
    "failedTransaction",
    "clawback",
    "auditUpdate",
    "fileProcessingResult",
)
_FIELDS = ("eventName", "webhookUrl", "enabled")


@dataclass
class Subscription:
    """One organization's subscription to one event type."""

    id: str
    organization_id: str
    event_name: str
    webhook_url: str
    enabled: bool

    def resource(self) -> dict[str, Any]:
        """Render the subscription as a JSON:API resource."""
        attributes = {
            "eventName": self.event_name,
            "webhookUrl": self.webhook_url,
            "enabled": self.enabled,
        }
        return {"type": "subscription", "id": self.id, "attributes": attributes}


class SubscriptionStore:
    """Thread-safe subscriptions; an organization has at most one per event type."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: list[Subscription] = []

    def create(self, organization_id: str, requests: list[dict[str, Any]]) -> list[Subscription]:
        """Subscribe to each requested event; 409 (creating none) if any is already taken."""
        with self._lock:
            conflicts = []
            seen = {
                s.event_name for s in self._subscriptions if s.organization_id == organization_id
            }
            for index, attributes in enumerate(requests):
                event_name = attributes["eventName"]
                if event_name in seen:
                    conflicts.append(
                        error_object(
                            409,
                            f"A subscription to {event_name} already exists",
                            source={"pointer": f"/data/{index}/attributes/eventName"},
                        )
                    )
                seen.add(event_name)
            if conflicts:
                raise KardError(409, conflicts[0]["detail"], errors=conflicts)
            created = [
                Subscription(
                    str(uuid.uuid4()),
                    organization_id,
                    attributes["eventName"],
                    attributes["webhookUrl"],
                    attributes["enabled"],
                )
                for attributes in requests
            ]
            self._subscriptions.extend(created)
            return created

    def update(
        self, organization_id: str, subscription_id: str, attributes: dict[str, Any]
    ) -> Subscription:
        """Change some attributes of a subscription; 404 if the organization has no such one."""
        with self._lock:
            subscription = next(
                (
                    s
                    for s in self._subscriptions
                    if s.id == subscription_id and s.organization_id == organization_id
                ),
                None,
            )
            if subscription is None:
                raise KardError(404, f"Subscription {subscription_id} was not found")
            event_name = attributes.get("eventName", subscription.event_name)
            if event_name != subscription.event_name and self._taken(organization_id, event_name):
                raise KardError(
                    409,
                    f"A subscription to {event_name} already exists",
                    pointer="/data/attributes/eventName",
                )
            subscription.event_name = event_name
            subscription.webhook_url = attributes.get("webhookUrl", subscription.webhook_url)
            subscription.enabled = attributes.get("enabled", subscription.enabled)
            return subscription

    def listed(self, organization_id: str, event_name: str | None = None) -> list[Subscription]:
        """Return the organization's subscriptions (to one event type when given), oldest first."""
        with self._lock:
            return [
                s
                for s in self._subscriptions
                if s.organization_id == organization_id
                and (event_name is None or s.event_name == event_name)
            ]

    def webhook_urls(self, organization_id: str, event_name: str) -> list[str]:
        """Return where the organization's enabled subscriptions want `event_name` sent."""
        return [s.webhook_url for s in self.listed(organization_id, event_name) if s.enabled]

    def clear(self) -> None:
        """Forget every subscription."""
        with self._lock:
            self._subscriptions.clear()

    def _taken(self, organization_id: str, event_name: str) -> bool:
        return any(
            s.organization_id == organization_id and s.event_name == event_name
            for s in self._subscriptions
        )


def validated_subscriptions(body: Any) -> list[dict[str, Any]]:
    """Return the attributes of a valid Create Subscriptions body; 400 listing its problems."""
    data = data_array(body)
    errors = BodyErrors()
    for index, item in enumerate(data):
        _check_item(item, f"/data/{index}", errors, required=True)
    errors.raise_any()
    return [{key: item["attributes"][key] for key in _FIELDS} for item in data]


def validated_update(body: Any) -> dict[str, Any]:
    """Return the attributes of a valid Update Subscription body; 400 listing its problems."""
    item = body.get("data") if isinstance(body, dict) else None
    errors = BodyErrors()
    _check_item(item, "/data", errors, required=False)
    errors.raise_any()
    attributes = item["attributes"]
    return {key: attributes[key] for key in _FIELDS if key in attributes}


def _check_item(item: Any, pointer: str, errors: BodyErrors, *, required: bool) -> None:
    attributes = errors.resource(item, pointer, ("subscription",))
    if attributes is None:
        return
    here = f"{pointer}/attributes"
    checks = (
        ("eventName", lambda v: v in EVENT_NAMES, f"must be one of {', '.join(EVENT_NAMES)}"),
        ("webhookUrl", _web_url, "must be an absolute http or https URL"),
        ("enabled", lambda v: isinstance(v, bool), "must be true or false"),
    )
    for key, check, detail in checks:
        if key in attributes:
            errors.require(attributes[key], f"{here}/{key}", check, detail)
        elif required:
            errors.add(f"{here}/{key}", "is required")


def _web_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
