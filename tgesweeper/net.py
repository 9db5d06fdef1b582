"""The one place in the product that makes outbound HTTP requests.

Every fetch is bounded: connect, read and total deadlines, a cap on the *decompressed* body,
a limited number of redirects, and an SSRF guard. The guard resolves each hop's host and
refuses non-public addresses, and it checks the actual peer of every socket right before a
request is written on it, so a DNS answer that changes between the check and the connect
(DNS rebinding) or a pooled connection opened under a laxer policy cannot reach a private
address. Errors are ``FetchError`` subclasses that say whether a retry can help.

Local test servers are reached only by an explicit policy: ``allow_private=True`` (tests,
``make demo``) or ``allow_addresses={"127.0.0.1:8123"}`` (exactly that peer, nothing else).
"""
from __future__ import annotations

import email.utils
import http.cookiejar
import ipaddress
import math
import random
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MiB = 1024 * 1024
CHUNK = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TRANSIENT_STATUSES = frozenset({408, 429})
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch. The defaults serve a caller that passes none; the workers build theirs from the
    configuration (SCRAPING_* variables), whose defaults a test holds equal to these."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_bytes: int = 10 * MiB
    max_redirects: int = 5
    allow_private: bool = False
    allow_addresses: frozenset[str] = field(default_factory=frozenset)
    user_agent: str = "TGE-News-Sweeper/1.0"
    # Called with each request's URL (every redirect hop) before it is sent; raises RateLimited when the
    # host's shared budget is spent. The worker supplies one backed by Redis; None means no limit.
    before_request: Callable[[str], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    elapsed: float

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """A fetch that did not produce a body; ``transient`` says whether a retry may help."""

    transient = False

    def __init__(self, reason: str, *, url: str = "", transient: bool | None = None,
                 retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.url = url
        self.retry_after = retry_after
        if transient is not None:
            self.transient = transient


class BlockedURL(FetchError):
    """Refused before any byte was sent: bad scheme, non-public address, too many redirects."""


class BodyTooLarge(FetchError):
    pass


class FetchTimeout(FetchError):
    transient = True


class ConnectionFailed(FetchError):
    transient = True


class NotConfigured(FetchError):
    """The kind lacks something only an operator can provide (a token, a browser): the source waits, it is not failing."""


class HTTPStatusError(FetchError):
    def __init__(self, reason: str, *, status: int, **kwargs):
        kwargs.setdefault("transient", status >= 500 or status in TRANSIENT_STATUSES)
        super().__init__(reason, **kwargs)
        self.status = status


class RateLimited(HTTPStatusError):
    """A request budget is spent (ours per host, or the server's 429); ``retry_after`` says when to come back.

    Not a failure of the source: the task comes back later without spending an attempt or tripping the breaker.
    """

    transient = True

    def __init__(self, reason: str, *, status: int = 429, **kwargs):
        super().__init__(reason, status=status, **kwargs)


# --- SSRF guard --------------------------------------------------------------------------

_EXTRA_BLOCKED = tuple(ipaddress.ip_network(n) for n in (
    "100.64.0.0/10",   # carrier-grade NAT
    "192.0.0.0/24",    # IETF protocol assignments
    "198.18.0.0/15",   # benchmarking
    "fec0::/10",       # deprecated site-local
))
_IPV4_COMPAT = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 spelling routes to (mapped, compatible, 6to4, Teredo, NAT64)."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in _IPV4_COMPAT or ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    return None


def is_public_address(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        inner = _embedded_ipv4(ip)
        if inner is not None and not is_public_address(inner):
            return False
    if (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified or not ip.is_global):
        return False
    return not any(ip.version == net.version and ip in net for net in _EXTRA_BLOCKED)


def _address_key(ip: IPAddress, port: int) -> str:
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


def _peer_allowed(ip: IPAddress, port: int, allow_private: bool, allow_addresses: frozenset[str]) -> bool:
    return allow_private or is_public_address(ip) or _address_key(ip, port) in allow_addresses


def check_url(url: str, *, allow_private: bool = False,
              allow_addresses: frozenset[str] = frozenset()) -> list[IPAddress]:
    """Refuse a URL unless it is http(s) and every address its host resolves to is public.

    The host is resolved the way the socket layer will resolve it, so decimal, octal, hex,
    short and IPv6-mapped spellings of a private address are all caught. Returns the addresses.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedURL(f"invalid URL {url!r}: {exc}", url=url) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BlockedURL(f"only http and https URLs can be fetched (got {scheme or 'no'} scheme): {url}", url=url)
    host = parts.hostname
    if not host:
        raise BlockedURL(f"URL has no host: {url}", url=url)
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConnectionFailed(f"cannot resolve host {host!r}: {exc}", url=url) from None
    addresses: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip not in addresses:
            addresses.append(ip)
    for ip in addresses:
        if not _peer_allowed(ip, port, allow_private, allow_addresses):
            raise BlockedURL(
                f"refused {url}: host {host!r} resolves to {ip}, which is not a public internet address",
                url=url)
    return addresses


# --- connection-level guard and total deadline --------------------------------------------

class _FetchContext:
    """Per-fetch state visible to the connection classes: the policy and a deadline watchdog.

    At the deadline the watchdog shuts down every socket the fetch used, which wakes a
    blocked read even when a server trickles one byte at a time (headers or body).
    """

    def __init__(self, policy: FetchPolicy):
        self.policy = policy
        self.deadline = time.monotonic() + policy.total_timeout
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._done = False
        self._timer = threading.Timer(policy.total_timeout, self._expire) if math.isfinite(policy.total_timeout) else None
        if self._timer is not None:
            self._timer.daemon = True

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if sock not in self._sockets:
                self._sockets.append(sock)
            if self.expired:
                _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)

    def __enter__(self) -> _FetchContext:
        _local.context = self
        if self._timer is not None:
            self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._done = True
        if self._timer is not None:
            self._timer.cancel()
        _local.context = None


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


_local = threading.local()
_STRICT = FetchPolicy()


if TYPE_CHECKING:
    _ConnectionBase = HTTPConnection  # what the mixin is mixed into, for the type checker
else:
    _ConnectionBase = object


class _GuardedConnectionMixin(_ConnectionBase):
    """Checks the socket's real peer before any request bytes are written on it."""

    def _guard(self, sock: socket.socket) -> None:
        context: _FetchContext | None = getattr(_local, "context", None)
        policy = context.policy if context else _STRICT
        peer = sock.getpeername()
        ip = ipaddress.ip_address(peer[0].split("%")[0])
        if not _peer_allowed(ip, peer[1], policy.allow_private, policy.allow_addresses):
            sock.close()
            raise BlockedURL(
                f"refused to talk to {ip}: {self.host!r} now resolves to a non-public address "
                "(possible DNS rebinding)")
        if context:
            context.watch(sock)

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._guard(sock)
        return sock

    def request(self, *args, **kwargs):
        if self.sock is not None:
            self._guard(self.sock)
        return super().request(*args, **kwargs)


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def guarded_session() -> requests.Session:
    """A session whose every connection passes the peer check: ``fetch``'s own, and for HTTP clients that build
    requests themselves (tweepy, the browser's router).

    Use it through ``request`` so the policy, deadline and body cap apply; alone it enforces the strictest policy.
    """
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc from the environment: the peer check must see the origin
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    adapter = _GuardedAdapter(pool_connections=32, pool_maxsize=32, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


_session = guarded_session()


# --- streams (WebSocket) ----------------------------------------------------------------------

STREAM_SCHEMES = {"ws": "http", "wss": "https"}


def check_stream_url(url: str, *, allow_private: bool = False,
                     allow_addresses: frozenset[str] = frozenset()) -> list[IPAddress]:
    """``check_url`` for a ws:// or wss:// URL: the same host rule (public addresses only unless allowed)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in STREAM_SCHEMES:
        raise BlockedURL(f"only ws and wss URLs can be streamed (got {scheme if sep else 'no'} scheme): {url}", url=url)
    return check_url(f"{STREAM_SCHEMES[scheme.lower()]}://{rest}", allow_private=allow_private,
                     allow_addresses=allow_addresses)


def connect_stream(url: str, *, policy: FetchPolicy = _STRICT) -> socket.socket:
    """A TCP connection for a long-lived stream (a WebSocket client is handed it): the host checked as for a fetch,
    the socket connected to one of the addresses checked (no second lookup to rebind) and its peer checked again.
    Blocking, no timeout: the stream's client sets its own."""
    addresses = check_stream_url(url, allow_private=policy.allow_private, allow_addresses=policy.allow_addresses)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme.lower() == "wss" else 80)
    failures = []
    for ip in addresses:
        try:
            sock = socket.create_connection((str(ip), port), timeout=policy.connect_timeout)
        except OSError as exc:
            failures.append(f"{ip}: {exc}")
            continue
        peer = sock.getpeername()
        if not _peer_allowed(ipaddress.ip_address(peer[0].split("%")[0]), peer[1], policy.allow_private,
                             policy.allow_addresses):
            sock.close()
            raise BlockedURL(f"refused to stream from {peer[0]}: not a public internet address", url=url)
        sock.settimeout(None)
        return sock
    raise ConnectionFailed(f"could not connect to {url}: {'; '.join(failures)}", url=url)


@contextmanager
def http_stream(url: str, *, policy: FetchPolicy = _STRICT) -> Iterator[None]:
    """The guards of a long-lived HTTP stream read on a ``guarded_session()`` (X's filtered stream): the URL checked
    and the budget spent as for a fetch, every connection's peer checked; no total deadline, as the stream is meant to
    last (its client sets a read timeout between chunks)."""
    check_url(url, allow_private=policy.allow_private, allow_addresses=policy.allow_addresses)
    if policy.before_request is not None:
        policy.before_request(url)
    with _FetchContext(replace(policy, total_timeout=math.inf)):
        yield


# --- fetch ----------------------------------------------------------------------------------

def fetch(url: str, *, policy: FetchPolicy = _STRICT, etag: str | None = None,
          last_modified: str | None = None, headers: Mapping[str, str] | None = None) -> FetchResult:
    """GET ``url`` within ``policy``; a 304 answer to the conditional headers has an empty body."""
    started = time.monotonic()
    request_headers = {"User-Agent": policy.user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    request_headers.update(headers or {})
    with _guarded(url, policy) as context:
        return _fetch(url, policy, request_headers, context, started)


def request(session: requests.Session, method: str, url: str, *, policy: FetchPolicy = _STRICT,
            **kwargs) -> requests.Response:
    """One request on a ``guarded_session()`` within ``policy``; the caller interprets the status.

    The same guards as ``fetch``: URL check, ``before_request``, timeouts and total deadline, decompressed-size cap.
    Redirects are not followed. The body is read before returning, so ``response.content`` is safe to use.
    """
    check_url(url, allow_private=policy.allow_private, allow_addresses=policy.allow_addresses)
    if policy.before_request is not None:
        policy.before_request(url)
    with _guarded(url, policy) as context:
        response = session.request(method, url, stream=True, allow_redirects=False,
                                   timeout=(policy.connect_timeout, policy.read_timeout), **kwargs)
        with response:
            body = _read_body(response, policy, context, url)
        response._content = body
        return response


def post(url: str, body: bytes, *, headers: Mapping[str, str], policy: FetchPolicy = _STRICT) -> FetchResult:
    """POST ``body`` within ``policy`` (alerts' webhooks). Redirects are not followed (a 3xx is an error: the target
    must name its final address); any other answer but 2xx raises ``HTTPStatusError`` (``RateLimited`` for 429) with
    the server's Retry-After."""
    started = time.monotonic()
    response = request(_session, "POST", url, policy=policy, data=body,
                       headers={"User-Agent": policy.user_agent, **headers})
    if not 200 <= response.status_code < 300:
        raise _status_error(response, url)
    return FetchResult(url=url, status=response.status_code, body=response.content, etag=None, last_modified=None,
                       content_type=response.headers.get("Content-Type"), elapsed=time.monotonic() - started)


@contextmanager
def _guarded(url: str, policy: FetchPolicy) -> Iterator[_FetchContext]:
    """The fetch context (peer check, deadline watchdog) with library errors turned into FetchErrors."""
    with _FetchContext(policy) as context:
        try:
            yield context
        except FetchError:
            raise
        except requests.exceptions.ConnectTimeout:
            if context.expired:
                raise _total_timeout(url, policy) from None
            raise FetchTimeout(f"could not connect to {url} within {policy.connect_timeout:g}s", url=url) from None
        except (TimeoutError, requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError):
            if context.expired or context.remaining() <= 0:
                raise _total_timeout(url, policy) from None
            raise FetchTimeout(f"{url} sent nothing for {policy.read_timeout:g}s (read timeout)", url=url) from None
        except requests.exceptions.SSLError as exc:
            raise ConnectionFailed(f"TLS error talking to {url}: {_root(exc)}", url=url) from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if context.expired:
                raise _total_timeout(url, policy) from None
            raise ConnectionFailed(f"connection to {url} failed: {_root(exc)}", url=url) from None


def _fetch(url: str, policy: FetchPolicy, headers: dict, context: _FetchContext, started: float) -> FetchResult:
    current = url
    for _hop in range(policy.max_redirects + 1):
        check_url(current, allow_private=policy.allow_private, allow_addresses=policy.allow_addresses)
        if policy.before_request is not None:
            policy.before_request(current)
        remaining = context.remaining()
        if remaining <= 0:
            raise _total_timeout(url, policy)
        response = _session.get(
            current, headers=headers, stream=True, allow_redirects=False,
            timeout=(min(policy.connect_timeout, remaining), min(policy.read_timeout, remaining)))
        with response:
            status = response.status_code
            if status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise HTTPStatusError(f"HTTP {status} redirect without a Location header from {current}",
                                          status=status, url=url, transient=False)
                following = urljoin(current, location)
                if urlsplit(following).hostname != urlsplit(current).hostname:
                    headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
                current = following
                continue
            if status == 304:
                body = b""
            elif 200 <= status < 300:
                body = _read_body(response, policy, context, current)
            else:
                raise _status_error(response, current)
            if context.expired:
                raise _total_timeout(url, policy)
            return FetchResult(
                url=current, status=status, body=body,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                content_type=response.headers.get("Content-Type"),
                elapsed=time.monotonic() - started)
    raise BlockedURL(f"too many redirects (more than {policy.max_redirects}) starting at {url}", url=url)


def _read_body(response: requests.Response, policy: FetchPolicy, context: _FetchContext, url: str) -> bytes:
    """Stream the body, decompressing ourselves so the cap applies to decompressed bytes."""
    too_large = BodyTooLarge(
        f"response from {url} is larger than {policy.max_bytes:,} bytes (after decompression)", url=url)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        raise too_large
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise FetchError(f"{url} answered with unsupported Content-Encoding {encoding!r}", url=url)
    body = bytearray()
    for piece in _decoded(response.raw.stream(CHUNK, decode_content=False), encoding, policy.max_bytes + 1, url):
        body += piece
        if len(body) > policy.max_bytes:
            raise too_large
        if context.expired or context.remaining() <= 0:
            raise _total_timeout(url, policy)
    if context.expired:
        raise _total_timeout(url, policy)
    return bytes(body)


def _decoded(chunks: Iterator[bytes], encoding: str, limit: int, url: str) -> Iterator[bytes]:
    """Decompress gzip/deflate incrementally, never producing more than ``limit`` bytes per step."""
    if encoding in ("identity", ""):
        yield from chunks
        return
    wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
    decompressor = zlib.decompressobj(wbits)
    first = True
    try:
        for chunk in chunks:
            data = chunk
            while data:
                try:
                    out = decompressor.decompress(data, limit)
                except zlib.error:
                    if not (first and wbits == zlib.MAX_WBITS):
                        raise
                    wbits = -zlib.MAX_WBITS  # "deflate" servers that send a raw stream without the zlib header
                    decompressor = zlib.decompressobj(wbits)
                    out = decompressor.decompress(data, limit)
                first = False
                yield out
                data = decompressor.unconsumed_tail
                if decompressor.eof and decompressor.unused_data:
                    data = decompressor.unused_data
                    decompressor = zlib.decompressobj(wbits)
        yield decompressor.flush()
    except zlib.error as exc:
        raise FetchError(f"{url} sent a corrupt {encoding} body: {exc}", url=url, transient=True) from None


def _status_error(response: requests.Response, url: str) -> HTTPStatusError:
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    label = f"HTTP {status} {response.reason or ''}".strip()
    hint = f"; retry after {retry_after:.0f}s" if retry_after is not None else ""
    error = RateLimited if status == 429 else HTTPStatusError
    return error(f"{label} from {url}{hint}", status=status, url=url, retry_after=retry_after)


def _total_timeout(url: str, policy: FetchPolicy) -> FetchTimeout:
    return FetchTimeout(f"fetching {url} took longer than the total deadline of {policy.total_timeout:g}s", url=url)


def _root(exc: BaseException) -> str:
    while exc.__cause__ is not None or (exc.args and isinstance(exc.args[0], BaseException)):
        exc = exc.__cause__ or exc.args[0]
    return str(exc) or type(exc).__name__


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent or bad.

    Negative, infinite or NaN seconds are bad (``inf`` would reach Celery's ETA arithmetic and overflow). A huge but
    finite wait is returned as it is: the task bounds every countdown (``workers.tasks.retry_countdown``).
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def backoff_delay(attempt: int, *, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds before retry number ``attempt`` (0-based): full jitter in [0, min(cap, base·2^attempt)].

    A server's Retry-After wins and is not capped here (the task bounds every countdown below the
    broker's visibility timeout: ``workers.tasks.retry_countdown``); a little jitter is added so many
    workers do not return at once.
    """
    if retry_after is not None:
        return max(0.0, retry_after) + random.uniform(0, base)
    ceiling = min(cap, base * 2 ** min(max(attempt, 0), 62))
    return random.uniform(0, ceiling)
