"""JSON pointers (RFC 6901) for error sources."""


def escape(key: str) -> str:
    """Escape one key for use as a JSON pointer token."""
    return str(key).replace("~", "~0").replace("/", "~1")
