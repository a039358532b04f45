"""The client's address: the peer's, unless the peer is a trusted proxy (`BFF_TRUSTED_PROXIES`),
then the one the proxies say they forwarded for.

Each proxy appends the address it received from to `X-Forwarded-For`, so the header is read from
the right: the first entry that is not itself a trusted proxy is the client. What lies left of it
came from the client, which may write anything there, so it is never read. Werkzeug's `ProxyFix`
trusts a number of hops whoever the peer is; this believes the header only from a trusted peer.
When every entry is a trusted proxy, the leftmost is the client (a trusted proxy wrote it); an
entry that is no address gives the peer's own: a malformed header never fails a request.
"""

import ipaddress
from collections.abc import Iterable

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_address(peer: str, forwarded_for: Iterable[str], trusted: tuple[IpNetwork, ...]) -> str:
    """The client of a request from `peer` carrying the `X-Forwarded-For` header lines given."""
    client = peer_address = parse_address(peer)
    if peer_address is None:
        return peer
    entries = [entry for line in forwarded_for for entry in line.split(",")] if trusted else []
    while entries and _is_trusted(client, trusted):
        forwarded = parse_address(entries.pop())
        if forwarded is None:
            return str(peer_address)
        client = forwarded
    return str(client)


def parse_address(text: str) -> IpAddress | None:
    """The IP address in `text` (`192.0.2.7`, `192.0.2.7:443`, `[2001:db8::1]:443`, an IPv4
    address mapped into IPv6 as the IPv4 one); None when it holds none."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # an IPv4 address and a port; IPv6 has two colons at least
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IpAddress, trusted: tuple[IpNetwork, ...]) -> bool:
    return any(address in network for network in trusted)
