"""Times in bodies: ISO 8601 in UTC with a `Z`."""

from datetime import UTC, datetime


def utc_timestamp(moment: datetime | float) -> str:
    """ISO 8601 in UTC with a `Z`, to the millisecond (a datetime, or seconds since the epoch)."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
