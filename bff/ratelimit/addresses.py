"""The client's address: the peer's, or what trusted proxies say it is in `X-Forwarded-For`.

Werkzeug's ProxyFix trusts a number of hops whatever the peer is; this trusts the header only
when the peer is one of `BFF_TRUSTED_PROXIES`, and then takes the rightmost address that is not
itself a trusted proxy (the leftmost entries are whatever the client chose to send).
"""

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The address a request came from; a malformed header is ignored, never an error."""
    if not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    try:
        addresses = [ipaddress.ip_address(hop) for hop in hops]
    except ValueError:
        return peer
    for address in reversed(addresses):
        if not any(address in network for network in trusted):
            return str(address)
    return str(addresses[0])


def _is_trusted(peer: str, trusted: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in trusted)
