"""Outgoing HTTP (health probes, and later Slack and webhooks): one client, one address guard.

Every request goes through `check_destination`: http and https only; link-local and cloud
metadata addresses are always refused, private and loopback ones unless the caller allows them
(HEALTH_PROBE_ALLOW_PRIVATE). The client then connects to the very address that was checked (the
Host header and TLS name stay the URL's), so a DNS answer that changes between check and connect
cannot lead it elsewhere. Redirects are never followed, proxies from the environment are ignored,
each request has connect and read timeouts and a deadline for the whole exchange, and at most
`max_bytes` of a response body are read.
"""
from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

USER_AGENT = "ConnectedApps/1.0"
TIMEOUT = httpx.Timeout(connect=3.0, read=5.0, write=5.0, pool=5.0)
DEADLINE_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024

# Cloud metadata services: AWS/GCP/Azure/OpenStack (169.254.169.254, inside link-local anyway),
# AWS over IPv6, Alibaba Cloud.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "fd00:ec2::254", "100.100.100.200"))
NAT64 = ipaddress.ip_network("64:ff9b::/96")
SHARED_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: private in practice

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutgoingError(Exception):
    """A request that got no usable answer; `reason` says why in a few words for people."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class DestinationRefused(OutgoingError):
    """The URL or the address it resolves to may not be called from the console."""


class TimedOut(OutgoingError):
    pass


class ConnectionRefused(OutgoingError):
    pass


class ConnectionFailed(OutgoingError):
    pass


@dataclass(frozen=True)
class Destination:
    url: str
    scheme: str
    host: str
    port: int
    address: str  # the checked IP address that is connected to


@dataclass(frozen=True)
class FetchResult:
    status_code: int
    headers: dict[str, str]
    body: bytes
    truncated: bool  # the body was longer than max_bytes; the rest was not read
    elapsed: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def address_refusal(address: IPAddress, allow_private: bool) -> str | None:
    """Why the console may not connect to `address`, or None when it may."""
    address = _embedded_ipv4(address)
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if address.is_link_local:
        return f"{address} is a link-local address"
    if address.is_multicast or address.is_unspecified or (address.is_reserved
                                                          and not address.is_loopback):
        return f"{address} is not a unicast address"
    if address.is_global and address not in SHARED_SPACE:
        return None
    if allow_private:
        return None
    kind = "loopback" if address.is_loopback else "private"
    return f"{address} is a {kind} address, not allowed here"


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ConnectionFailed("host name not found") from None
    # getaddrinfo may append a scope ("fe80::1%eth0"); the address is what precedes it.
    return list(dict.fromkeys(ipaddress.ip_address(str(a[4][0]).split("%")[0]) for a in answers))


def check_destination(url: str, allow_private: bool) -> Destination:
    """The address the console would connect to for `url`, or DestinationRefused (or
    ConnectionFailed when the name does not resolve). Every address a name resolves to must
    pass, so that no answer of a round-robin name leads somewhere refused."""
    # urlsplit drops tabs and line breaks silently where httpx refuses them: refuse them here,
    # so that a bad URL is one refused destination rather than an error that ends a probe round.
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise DestinationRefused("not a valid URL")
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise DestinationRefused("not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise DestinationRefused("only http and https URLs can be called")
    if not parts.hostname:
        raise DestinationRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("URLs with a user name or password are not called")
    port = port or (443 if scheme == "https" else 80)
    addresses = _resolve(parts.hostname, port)
    for address in addresses:
        refusal = address_refusal(address, allow_private)
        if refusal is not None:
            raise DestinationRefused(refusal)
    return Destination(url=url, scheme=scheme, host=parts.hostname, port=port,
                       address=str(addresses[0]))


# The deadline of the request the current thread is making; every socket operation waits at
# most until then, so no answer, however slowly it trickles in, holds a request longer.
_deadline = threading.local()


def _bounded(timeout: float | None) -> float:
    until = getattr(_deadline, "until", None)
    if until is None:
        return timeout
    remaining = until - time.monotonic()
    if remaining <= 0:
        raise httpcore.ReadTimeout("deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname,
                                                      _bounded(timeout)))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self):
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _DeadlineStream(self._backend.connect_tcp(host, port, _bounded(timeout),
                                                         local_address, socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are not used")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def make_client(max_connections: int = 20, timeout: httpx.Timeout = TIMEOUT) -> httpx.Client:
    """The one HTTP client for outgoing requests (thread-safe: probes share one)."""
    transport = httpx.HTTPTransport(retries=0, limits=httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections))
    # httpx takes no network backend argument; its pool is rebuilt around ours (httpx is pinned).
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(), max_connections=max_connections,
        max_keepalive_connections=max_connections, keepalive_expiry=5.0,
        network_backend=_DeadlineBackend())
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=False,
                        trust_env=False, headers={"User-Agent": USER_AGENT})


def _connect_error(error: httpx.HTTPError) -> OutgoingError:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return ConnectionRefused("connection refused")
        cause = cause.__cause__ or cause.__context__
    if "refused" in str(error).lower():
        return ConnectionRefused("connection refused")
    return ConnectionFailed("connection failed")


def fetch(url: str, method: str = "GET", *, json=None, content: bytes | None = None,
          headers: dict[str, str] | None = None, allow_private: bool = False,
          client: httpx.Client | None = None, max_bytes: int = MAX_RESPONSE_BYTES,
          deadline: float = DEADLINE_SECONDS) -> FetchResult:
    """One request through the guard; raises OutgoingError when no answer came.

    Any status is an answer (a redirect too: it is returned, not followed)."""
    destination = check_destination(url, allow_private)
    own_client = client is None
    client = client or make_client(max_connections=1)
    target = httpx.URL(url)
    pinned = target.copy_with(host=destination.address)
    host_header = target.netloc.decode("ascii")  # the URL's host and port, never userinfo
    extensions = {"sni_hostname": destination.host} if destination.scheme == "https" else {}
    request = client.build_request(method, pinned, json=json, content=content,
                                   headers={**(headers or {}), "Host": host_header},
                                   extensions=extensions)
    started = time.monotonic()
    _deadline.until = started + deadline
    try:
        response = client.send(request, stream=True)
        try:
            body, truncated = bytearray(), False
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    del body[max_bytes:]
                    truncated = True
                    break
            return FetchResult(response.status_code, dict(response.headers), bytes(body),
                               truncated, time.monotonic() - started)
        finally:
            response.close()
    except httpx.TimeoutException:
        raise TimedOut("timed out") from None
    except httpx.ConnectError as error:
        raise _connect_error(error) from None
    except httpx.HTTPError:
        raise ConnectionFailed("the answer was not valid HTTP") from None
    finally:
        _deadline.until = None
        if own_client:
            client.close()
