"""One request to a receiver we do not trust (DESIGN.md, "Webhooks", egress).

The caller chooses the URL, so an attempt must not reach what the caller could not reach
itself, nor let a receiver hold us:

- The host is resolved here and every address it resolves to is checked against the blocked
  networks; the connection then goes to one of those checked addresses, so a DNS answer that
  changes between the check and the connection (rebinding) never gets past it. For https the
  certificate is still verified against the host name (SNI and verification use the URL's
  host, not the address).
- No proxy from the environment, no redirects followed: a 3xx is the answer.
- One deadline for the whole attempt: connecting, TLS, sending and every read get only what
  is left of it, so a receiver that trickles a byte a second is cut off on time.
- At most MAX_WEBHOOK_RESPONSE_BYTES of the answer (head and body) are read, then the
  connection is closed: only the status matters.
- At most `max_per_host` attempts to one host at a time (`HostSlots`), so a slow receiver
  holds only a few of the delivery threads.

It is built on httpcore (httpx's transport layer), whose network backend is the one place
where a host name becomes a socket.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from typing import Any

import httpcore
import httpx

from transcribe.limits import MAX_WEBHOOK_RESPONSE_BYTES

log = logging.getLogger(__name__)

Network = IPv4Network | IPv6Network

USER_AGENT = "transcribe-webhooks/1"


@dataclass(frozen=True)
class Answer:
    """What came of one attempt: the receiver's status code, or what went wrong (or both, for
    a redirect); `blocked` when the receiver was not contacted at all."""

    status_code: int | None
    error: str | None = None
    blocked: bool = False


class BlockedDestination(Exception):
    """The URL may not be contacted; the message says why, for the delivery log."""


class _ReadEnough(Exception):
    """The connection has given all of the answer that we read."""


def send(
    method: str,
    url: str,
    *,
    params: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    timeout_s: float,
    blocked: Sequence[Network],
) -> Answer:
    """One request under one deadline, to an address outside `blocked`; never raises for
    what the receiver (or the URL) does. `params` are added to the URL's query."""
    deadline = time.monotonic() + timeout_s
    try:
        request = _request(method, url, params, headers, body)
        backend = _PinnedBackend(blocked, deadline)
        with httpcore.ConnectionPool(network_backend=backend, max_connections=1) as pool:
            return _exchange(pool, request)
    except BlockedDestination as exc:
        return Answer(None, str(exc), blocked=True)
    except _ReadEnough:
        return Answer(None, f"the answer's head is over {MAX_WEBHOOK_RESPONSE_BYTES} bytes")
    except httpcore.TimeoutException:
        return Answer(None, f"timed out after {timeout_s:g} s")
    except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}")


def _request(
    method: str, url: str, params: dict[str, str], headers: dict[str, str], body: bytes
) -> httpcore.Request:
    """The request as httpcore takes it. Credentials in the URL are not sent: the
    Authorization header carries our signature."""
    try:
        target = httpx.URL(url).copy_merge_params(params)
    except httpx.InvalidURL as exc:
        raise BlockedDestination(f"not contacted: not a valid URL ({exc})") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise BlockedDestination("not contacted: only http:// and https:// URLs are called")
    sent = {
        "Host": target.netloc.decode("ascii"),  # host[:port], IPv6 in brackets, no userinfo
        "User-Agent": USER_AGENT,
        "Connection": "close",
        **headers,
    }
    if body:
        sent["Content-Length"] = str(len(body))
    return httpcore.Request(
        method,
        httpcore.URL(
            scheme=target.raw_scheme, host=target.raw_host, port=target.port, target=target.raw_path
        ),
        headers=list(sent.items()),
        content=body or None,
    )


def _exchange(pool: httpcore.ConnectionPool, request: httpcore.Request) -> Answer:
    """Send, read the answer up to the connection's budget, drop its body, close."""
    response = pool.handle_request(request)
    try:
        for _ in response.iter_stream():
            pass
    except _ReadEnough:
        pass  # the rest stays unread
    finally:
        response.close()
    if 300 <= response.status < 400:
        return Answer(response.status, "a redirect: redirects are not followed")
    return Answer(response.status)


def checked_addresses(host: str, port: int, blocked: Sequence[Network]) -> list[str]:
    """The addresses `host` resolves to, each once, in the resolver's order. If any of them
    is in a blocked network the host is refused, whichever address a connection would get."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))
    for address in addresses:
        network = blocked_network(address, blocked)
        if network is not None:
            # The operator sees the address; the caller's delivery log only the network.
            log.warning("webhook to %s not sent: %s is in blocked %s", host, address, network)
            raise BlockedDestination(
                f"not contacted: {host} resolves into the blocked network {network}"
            )
    return addresses


def blocked_network(address: str, blocked: Iterable[Network]) -> Network | None:
    """The blocked network `address` is in, if any. An IPv4-mapped IPv6 address
    (::ffff:127.0.0.1) is checked as the IPv4 address it reaches."""
    ip = ipaddress.ip_address(address.partition("%")[0])  # drop an IPv6 zone (fe80::1%eth0)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return next((network for network in blocked if ip in network), None)


def _left(deadline: float, timeout: type[httpcore.TimeoutException]) -> float:
    """Seconds left before the attempt's deadline; the timeout error once none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise timeout("the attempt's deadline passed")
    return left


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to a host only through the addresses `checked_addresses` allowed, each
    connection under the attempt's deadline."""

    def __init__(self, blocked: Sequence[Network], deadline: float) -> None:
        self._blocked = blocked
        self._deadline = deadline
        self._tcp = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure = httpcore.ConnectError(f"{host} has no address")
        for address in checked_addresses(host, port, self._blocked):
            left = _left(self._deadline, httpcore.ConnectTimeout)
            try:
                stream = self._tcp.connect_tcp(address, port, timeout=left)
            except httpcore.ConnectError as exc:
                failure = exc  # try the host's next address
                continue
            return _DeadlineStream(stream, self._deadline)
        raise failure


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake waits at most until the
    attempt's deadline, whatever timeout it is asked for, and which reads at most
    MAX_WEBHOOK_RESPONSE_BYTES in all."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self._stream = stream
        self._deadline = deadline
        self._unread = MAX_WEBHOOK_RESPONSE_BYTES

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._unread <= 0:
            raise _ReadEnough
        left = _left(self._deadline, httpcore.ReadTimeout)
        data = self._stream.read(min(max_bytes, self._unread), left)
        self._unread -= len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(self._deadline, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _left(self._deadline, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, left), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class HostSlots:
    """At most `limit` attempts to one host at the same time, in this process."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._busy: Counter[str] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, host: str) -> Iterator[bool]:
        """A slot for `host` while the block runs: True if one was free, else False (and
        nothing is held: the caller should try again later rather than wait)."""
        with self._lock:
            free = self._busy[host] < self._limit
            if free:
                self._busy[host] += 1
        try:
            yield free
        finally:
            if free:
                with self._lock:
                    self._busy[host] -= 1
                    if not self._busy[host]:
                        del self._busy[host]


def host_of(url: str) -> str:
    """The host an attempt's slot is counted against (lower case; '' if none)."""
    try:
        return httpx.URL(url).host
    except httpx.InvalidURL:
        return ""
