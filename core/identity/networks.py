"""Network allow-lists (seed-004 CSM-17, SEC-04, SEC-11): which client addresses may sign in as
staff, or use an API key. Pure: parsing and matching, no I/O.

A list holds CIDR networks, IPv4 or IPv6 ("10.0.0.0/8", "2001:db8::/32"; a bare address is a /32
or /128). An empty list allows every address. An IPv4 address seen as IPv6 ("::ffff:10.1.2.3")
is matched as the IPv4 address it carries. An address that is not an IP address at all (a unix
socket, an unknown client) never matches a non-empty list."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from core.errors import KehuError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_NETWORKS = 100


def parse_networks(values: Iterable[object], field: str) -> tuple[str, ...]:
    """The networks in canonical form ("10.1.2.3/8" becomes "10.0.0.0/8"); refuse what is not one."""
    items = list(values)
    if len(items) > MAX_NETWORKS:
        raise KehuError("SETTING_INVALID", f"{field}: at most {MAX_NETWORKS} networks",
                        f"{field}：最多 {MAX_NETWORKS} 个网段", field=field)
    canonical: list[str] = []
    for value in items:
        if not isinstance(value, str):
            raise KehuError("SETTING_INVALID", f"{field}: each network must be text such as 10.0.0.0/8",
                            f"{field}：每个网段须为文本，如 10.0.0.0/8", field=field)
        try:
            network = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise KehuError("SETTING_INVALID", f"{field}: {value[:60]!r} is not a CIDR network such as 10.0.0.0/8",
                            f"{field}：{value[:60]!r} 不是 CIDR 网段（如 10.0.0.0/8）", field=field) from None
        if str(network) not in canonical:
            canonical.append(str(network))
    return tuple(canonical)


def _address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def allowed(address: str | None, networks: Sequence[str]) -> bool:
    """Whether ``address`` lies in one of ``networks``; an empty list allows every address."""
    if not networks:
        return True
    parsed = _address(address)
    if parsed is None:
        return False
    return any(parsed in ipaddress.ip_network(network) for network in networks)
