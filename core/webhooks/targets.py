"""Where a webhook may go: public addresses only (issue 16 point 3).

A webhook URL is chosen by a tenant, so without these checks kehu would POST into its own
private network (cloud metadata at 169.254.169.254, the database, Redis) and the delivery log
would report which ports answer. So:

- ``check_url`` refuses, when an endpoint is created or changed, a URL that is not https, carries
  user info, uses a port below 1024 other than 443, or names a forbidden host: an IP literal in
  any spelling (``10.0.0.5``, ``[::ffff:10.0.0.5]``, ``2130706433``), ``localhost``, a single-label
  or internal-only name. ``check_resolved`` also refuses a name that resolves to a forbidden
  address now (it accepts a name that does not resolve: the delivery checks again).
- ``PinnedBackend`` is the only way deliveries reach the network: it resolves the host once,
  refuses the connection when *any* answer is forbidden, and connects to the checked address
  itself, so a name that changes its answer between the check and the connect (DNS rebinding)
  cannot steer the request. TLS (SNI, certificate) and the Host header keep the URL's name.
- Loopback is allowed only with ``KEHU_WEBHOOKS_ALLOW_LOOPBACK`` (embedded profile, local
  development and tests); then plain http is accepted for targets that are only loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import Awaitable, Callable
from typing import Any

import httpcore
import httpx

from core.errors import KehuError

URL_MAX = 2000
RESOLVE_TIMEOUT_SECONDS = 3.0
ALLOW_LOOPBACK = False  # set from KEHU_WEBHOOKS_ALLOW_LOOPBACK by configure_webhooks
# Names that only ever mean this machine or a private network.
INTERNAL_SUFFIXES = ("localhost", "local", "localdomain", "internal", "intranet", "lan", "home.arpa")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Not covered (or not fully) by ``is_global`` on Python 3.11.
_EXTRA_FORBIDDEN = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
    "::/96",  # IPv4-compatible (deprecated)
    "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
))
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class TargetForbidden(Exception):
    """A delivery's target is (or resolves to) an address webhooks may not reach."""


class NameUnresolved(Exception):
    """A delivery's host name has no address (or the lookup timed out)."""


def configure_webhooks(settings: Any) -> None:
    global ALLOW_LOOPBACK
    ALLOW_LOOPBACK = bool(getattr(settings, "webhooks_allow_loopback", False))


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the operating system's resolver, in its order."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM),
                                   RESOLVE_TIMEOUT_SECONDS)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_resolver: Resolver = system_resolver


def use_resolver(resolver: Resolver | None) -> None:
    """Replace the resolver (tests answer private addresses with one); ``None`` restores the system's."""
    global _resolver
    _resolver = resolver or system_resolver


# --- addresses -----------------------------------------------------------------------------------

def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), where the packet really goes."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_allowed(ip: IPAddress, *, allow_loopback: bool | None = None) -> bool:
    """True for a public unicast address; loopback too when allowed. Everything else is refused:
    private, link-local, CGNAT, multicast, reserved, unspecified, documentation and benchmark
    ranges, and IPv6 forms that embed one of those IPv4 addresses."""
    allow_loopback = ALLOW_LOOPBACK if allow_loopback is None else allow_loopback
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return address_allowed(embedded, allow_loopback=allow_loopback)
    if ip.is_loopback:
        return allow_loopback
    if (ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
            or not ip.is_global or any(ip in net for net in _EXTRA_FORBIDDEN if net.version == ip.version)):
        return False
    return not (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)


def _is_loopback(ip: IPAddress) -> bool:
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    return (embedded or ip).is_loopback


def literal_address(host: str) -> IPAddress | None:
    """The address a host spells, in any notation a resolver accepts (``2130706433``, ``0x7f.1``)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


# --- URLs ----------------------------------------------------------------------------------------

def _invalid() -> KehuError:
    return KehuError("URL_INVALID", "a webhook URL must be an https:// URL without user name or password",
                     "Webhook 地址须为不含用户名和密码的 https:// 地址", field="url")


def _forbidden() -> KehuError:
    # Never says what the host resolved to: that would map the private network for the caller.
    return KehuError("WEBHOOK_URL_FORBIDDEN",
                     "webhooks go only to public internet addresses on port 443 or 1024-65535, "
                     "not to private, loopback, link-local, multicast or reserved ones",
                     "Webhook 只能发往公网地址（端口 443 或 1024-65535），不能发往私有、回环、链路本地、组播或保留地址",
                     field="url")


def _parse(url: str) -> tuple[httpx.URL, str, int]:
    if not url or len(url) > URL_MAX:
        raise _invalid()
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").lower().rstrip(".")
    except (httpx.InvalidURL, ValueError, TypeError, UnicodeError):
        raise _invalid() from None
    if not host or parsed.userinfo or parsed.scheme not in ("https", "http"):
        raise _invalid()
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return parsed, host, port


def check_url(url: str) -> str:
    """The URL, stripped, if its shape and its host as written may be a webhook target; the name's
    addresses are checked by ``check_resolved`` (now) and ``PinnedBackend`` (at every delivery)."""
    url = url.strip()
    parsed, host, port = _parse(url)
    if parsed.scheme == "http" and not ALLOW_LOOPBACK:
        raise _invalid()
    if port != 443 and port < 1024:
        raise _forbidden()
    literal = literal_address(host)
    if literal is not None:
        if not address_allowed(literal):
            raise _forbidden()
        loopback = _is_loopback(literal)
    else:
        local_name = host == "localhost" or host.endswith(".localhost")
        if local_name and not ALLOW_LOOPBACK:
            raise _forbidden()
        if not local_name and ("." not in host or host.endswith(tuple("." + s for s in INTERNAL_SUFFIXES))
                               or host in INTERNAL_SUFFIXES):
            raise _forbidden()  # a single-label or internal name means a host inside some network
        loopback = local_name
    if parsed.scheme == "http" and not (ALLOW_LOOPBACK and (loopback or literal is None)):
        raise _invalid()  # plain http only for loopback, when loopback is allowed (names: see check_resolved)
    return url


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of ``host`` (an IP literal is its own); NameUnresolved when there is none."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        answers = await _resolver(host, port)
        addresses = [ipaddress.ip_address(a) for a in answers]
    except (OSError, TimeoutError, UnicodeError, ValueError):
        raise NameUnresolved from None
    if not addresses:
        raise NameUnresolved
    return addresses


def _check_addresses(addresses: list[IPAddress], *, plain_http: bool) -> None:
    if not all(address_allowed(a) for a in addresses):
        raise TargetForbidden
    if plain_http and not all(_is_loopback(a) for a in addresses):
        raise TargetForbidden


async def check_resolved(url: str) -> str:
    """``check_url``, then refuse a name resolving to any forbidden address right now. A name that
    does not resolve is accepted (it may not exist yet); plain http needs one resolving to loopback."""
    url = check_url(url)
    parsed, host, port = _parse(url)
    try:
        addresses = await resolve(host, port)
    except NameUnresolved:
        if parsed.scheme == "http":
            raise _invalid() from None
        return url
    try:
        _check_addresses(addresses, plain_http=parsed.scheme == "http")
    except TargetForbidden:
        raise (_invalid() if parsed.scheme == "http" and all(address_allowed(a) for a in addresses)
               else _forbidden()) from None
    return url


# --- connecting ----------------------------------------------------------------------------------

class PinnedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to checked addresses (see the module doc).

    The resolution and the connect are one step here: the address connected to is the one just
    checked, and nothing resolves the name a second time."""

    def __init__(self, *, plain_http: bool, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.plain_http = plain_http
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host.strip("[]"), port)
        _check_addresses(addresses, plain_http=self.plain_http)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(str(address), port, timeout=timeout,
                                                    local_address=local_address, socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise TargetForbidden

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def pinned_pool(url: str) -> httpcore.AsyncConnectionPool:
    """A connection pool for one endpoint that reaches only checked addresses; no proxy (a proxy
    would resolve the name itself), no redirects (httpcore follows none)."""
    plain_http = httpx.URL(url).scheme == "http"
    return httpcore.AsyncConnectionPool(network_backend=PinnedBackend(plain_http=plain_http),
                                        max_connections=4, retries=0)


def wire_url(url: str) -> str:
    """The URL as sent: an internationalised host name in its ASCII (IDNA) form."""
    return str(httpx.URL(url))
