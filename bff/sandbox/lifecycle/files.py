"""Get Files: the reconciliation files Kard sends, built from the simulator's own ledger.

Each UTC day with rewards approved (by purchase date), transactions validated (settled) or
rewards paid has its daily file of that type, sent at 06:00 the next day; each month with rewards
paid has its monthly file, sent on the first day of the next month. The reference describes the
files' metadata, not their content: the simulator's are CSV, one row per reward (`COLUMNS`). A
file is built again from the ledger when it is downloaded, so it stays bounded by the ledger.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bff.sandbox.catalog.offers import mongo_id
from bff.sandbox.documents.resources import iso
from bff.sandbox.lifecycle.ledger import Reward

DAILY, MONTHLY = "daily", "monthly"
# File type -> (its period, the moment of a reward it counts)
FILE_TYPES: dict[str, tuple[str, Callable[[Reward], datetime | None]]] = {
    "earnedRewardApprovedDailyReconciliationFile": (DAILY, lambda reward: reward.purchased_at),
    "validatedTransactionDailyReconciliationFile": (DAILY, lambda reward: reward.settled_at),
    "earnedRewardSettledDailyReconciliationFile": (DAILY, lambda reward: reward.paid_at),
    "monthlyReconciliationFile": (MONTHLY, lambda reward: reward.paid_at),
}
SENT_AFTER = timedelta(hours=6)  # after the period closes
COLUMNS = (
    "rewardId",
    "transactionId",
    "userId",
    "offerId",
    "merchantName",
    "transactionAmountInCents",
    "userCommissionInCents",
    "issuerCommissionInCents",
    "transactionTimestamp",
    "settledTimestamp",
    "paidTimestamp",
)


@dataclass(frozen=True)
class ReconciliationFile:
    """One file Kard sent: its period's rewards of its type."""

    id: str
    file_type: str
    period_start: datetime
    sent_at: datetime
    rewards: tuple[Reward, ...]

    @property
    def name(self) -> str:
        """The file's name: its type and its period."""
        period = FILE_TYPES[self.file_type][0]
        stamp = (
            f"{self.period_start:%Y-%m}" if period == MONTHLY else f"{self.period_start:%Y-%m-%d}"
        )
        return f"{self.file_type}-{stamp}.csv"

    def body(self) -> bytes:
        """The file's CSV content."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for reward in self.rewards:
            writer.writerow(
                [
                    reward.id,
                    reward.transaction_id,
                    reward.user_id,
                    reward.offer.id,
                    reward.offer.name,
                    reward.amount_cents,
                    reward.user_cents,
                    reward.issuer_cents,
                    iso(reward.purchased_at),
                    iso(reward.settled_at) if reward.settled_at else "",
                    iso(reward.paid_at) if reward.paid_at else "",
                ]
            )
        return out.getvalue().encode()


def reconciliation_files(
    organization_id: str, rewards: list[Reward], now: datetime
) -> list[ReconciliationFile]:
    """The files sent by `now` for the organization's rewards, oldest first."""
    files = []
    for file_type, (period, moment) in FILE_TYPES.items():
        periods: dict[datetime, list[Reward]] = defaultdict(list)
        for reward in rewards:
            when = moment(reward)
            if when is not None:
                periods[_period_start(when, period)].append(reward)
        for start, members in periods.items():
            sent_at = _period_end(start, period) + SENT_AFTER
            if sent_at <= now:
                file_id = mongo_id("file", organization_id, file_type, start.isoformat())
                files.append(ReconciliationFile(file_id, file_type, start, sent_at, tuple(members)))
    return sorted(files, key=lambda file: (file.sent_at, file.id))


def _period_start(when: datetime, period: str) -> datetime:
    day = when.replace(hour=0, minute=0, second=0, microsecond=0)
    return day.replace(day=1) if period == MONTHLY else day


def _period_end(start: datetime, period: str) -> datetime:
    if period == DAILY:
        return start + timedelta(days=1)
    return (start + timedelta(days=32)).replace(day=1)
