"""Audits: what Create Audits opens, one per transaction of a user, until it is resolved.

Kard's team resolves an audit; the simulator's control API stands in for them
(`POST /_sandbox/audits/<id>/resolve`), which closes it and sends `auditUpdate`.
"""

import threading
import uuid
from datetime import datetime
from typing import Any

from bff.sandbox.errors import KardError

MAX_AUDITS = 100_000  # per organization: past it, Create Audits refuses with a conflict
# Resolution codes of AuditUpdateAttributes, and the default: "Reward dispute resolved".
RESOLUTION_CODES = (
    5001,
    5002,
    5003,
    5004,
    5005,
    5006,
    5007,
    5008,
    5009,
    9001,
    9002,
    9003,
    9004,
    9005,
)
DEFAULT_RESOLUTION = 5004


class AuditStore:
    """Thread-safe audits of every organization, by ID."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._audits: dict[str, dict[str, Any]] = {}
        self._claimed: dict[str, set[tuple[str, str]]] = {}  # org -> (user, transaction ID)

    def open(self, organization_id: str, user_id: str, attributes: dict[str, Any]) -> str | None:
        """Open an audit; return its ID, or None when the user's transaction has one."""
        key = (user_id, attributes["transactionId"])
        with self._lock:
            claimed = self._claimed.setdefault(organization_id, set())
            if key in claimed or len(claimed) >= MAX_AUDITS:
                return None
            claimed.add(key)
            audit_id = str(uuid.uuid4())
            self._audits[audit_id] = {
                **attributes,
                "id": audit_id,
                "organizationId": organization_id,
                "userId": user_id,
                "status": "NEW",
            }
            return audit_id

    def resolve(self, audit_id: str, code: int, description: str, now: datetime) -> dict[str, Any]:
        """Close an audit with its resolution; return it (404 if there is none)."""
        with self._lock:
            audit = self._audits.get(audit_id)
            if audit is None:
                raise KardError(404, f"Audit {audit_id} was not found")
            audit.update(
                status="CLOSED",
                resolutionCode=code,
                resolutionDescription=description,
                resolvedAt=now,
            )
            return dict(audit)

    def clear(self) -> None:
        """Forget every audit."""
        with self._lock:
            self._audits.clear()
            self._claimed.clear()
