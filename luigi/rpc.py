"""Client side of the worker <-> central scheduler protocol.

``RemoteScheduler`` has the same RPC methods as :class:`luigi.scheduler.Scheduler`; each call becomes
one HTTP POST of a form field ``data=<json of the arguments>`` to ``<url>/api/<method>``, and the
reply's ``{"response": ...}`` value is returned.

Why our own fetcher: Luigi's stdlib fetcher opens a new TCP connection per call. ``URLLibFetcher``
here keeps one HTTP/1.1 keep-alive connection per process (``http.client``, standard library only)
and reconnects transparently, which matters for workers that ping and ask for work in a loop. It also
speaks ``http+unix://`` (Unix socket path percent-encoded as the host) without extra packages.

Errors the server reports with a 4xx status are deterministic (bad arguments, unknown method,
missing token), so they raise :class:`RPCError` at once instead of being retried; connection errors,
timeouts and 5xx answers are retried ``[core] rpc_retry_attempts`` times, ``rpc_retry_wait`` seconds
apart.
"""

from __future__ import annotations

import abc
import base64
import http.client
import json
import logging
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

from luigi import configuration
from luigi.scheduler import RPC_METHODS

logger = logging.getLogger("luigi-interface")

# ``requests`` is never needed: the stdlib fetcher keeps connections alive and speaks http+unix://.
# Setting HAS_REQUESTS to True (as Luigi's tests do by patching) selects RequestsFetcher.
HAS_REQUESTS = False
HAS_UNIX_SOCKET = True

TOKEN_HEADER = "X-Luigi-Scheduler-Token"
TOKEN_ENV = "LUIGI_SCHEDULER_TOKEN"


def _urljoin(base: str, url: str) -> str:
    """Join ``url`` onto ``base`` keeping the base's path prefix and a non-standard scheme."""
    parsed = urllib.parse.urlparse(base)
    scheme = parsed.scheme
    path = parsed.path + url if url[0] == "/" else parsed.path + "/" + url
    joined = urllib.parse.urljoin(parsed._replace(scheme="http").geturl(), path)
    return urllib.parse.urlparse(joined)._replace(scheme=scheme).geturl()


class RPCError(Exception):
    """A call to the remote scheduler failed; ``sub_exception`` is the underlying error, if any."""

    def __init__(self, message: str, sub_exception: BaseException | None = None) -> None:
        super().__init__(message)
        self.sub_exception = sub_exception


class _FetcherInterface(metaclass=abc.ABCMeta):
    @abc.abstractmethod
    def fetch(self, full_url: str, body: dict | None, timeout: float | None) -> str:
        """Send ``body`` (form fields) to ``full_url`` and return the response text."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""


class _TCPHTTPConnection(http.client.HTTPConnection):
    """``http.client`` sends the headers and the body in two writes; with Nagle's algorithm on, the
    body then waits for the server's delayed ACK. TCP_NODELAY avoids that stall on every call."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _TCPHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a Unix domain socket; ``path`` is the socket file."""

    def __init__(self, path: str, timeout: float | None = None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class URLLibFetcher(_FetcherInterface):
    """Standard-library fetcher reusing one keep-alive connection per (scheme, host), thread and
    process.

    ``http.client`` connections are not thread-safe, and a worker calls the scheduler from several
    threads (keep-alive pings next to ``get_work``), so each thread gets its own. A connection is
    dropped and re-opened after any error or when the process forked (sockets must not be shared
    between parent and child)."""

    raises = (urllib.error.URLError, socket.timeout, OSError, http.client.HTTPException)

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: set[http.client.HTTPConnection] = set()  # of every thread, for close()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self.token = _configured_token()

    @property
    def _connections(self) -> dict[tuple[str, str], http.client.HTTPConnection]:
        """This thread's open connections (forgotten after a fork)."""
        if os.getpid() != self._pid:
            self._local = threading.local()
            self._all = set()
            self._pid = os.getpid()
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        return conns

    def _create_request(self, full_url: str, body: dict | None = None) -> urllib.request.Request:
        """Build a ``urllib`` request; userinfo in the URL becomes a Basic ``Authorization`` header."""
        parsed = urllib.parse.urlparse(full_url)
        if parsed.username:
            credentials = f"{parsed.username}:{parsed.password or ''}".encode()
            netloc = parsed.netloc.rsplit("@", 1)[1]
            req = urllib.request.Request(parsed._replace(netloc=netloc).geturl())
            req.add_header("Authorization", "Basic " + base64.b64encode(credentials).decode("ascii"))
        else:
            req = urllib.request.Request(full_url)
        if body:
            req.data = urllib.parse.urlencode(body).encode("utf-8")
        return req

    def _connection(self, scheme: str, host: str, timeout: float | None) -> http.client.HTTPConnection:
        conns = self._connections
        conn = conns.get((scheme, host))
        if conn is None:
            if scheme == "http+unix":
                conn = _UnixHTTPConnection(urllib.parse.unquote(host), timeout=timeout)
            elif scheme == "https":
                conn = _TCPHTTPSConnection(host, timeout=timeout)
            else:
                conn = _TCPHTTPConnection(host, timeout=timeout)
            conns[(scheme, host)] = conn
            with self._lock:
                self._all.add(conn)
        conn.timeout = timeout
        return conn

    def fetch(self, full_url: str, body: dict | None, timeout: float | None) -> str:
        req = self._create_request(full_url, body)
        parsed = urllib.parse.urlparse(req.full_url)
        target = parsed.path or "/"
        if parsed.query:
            target += "?" + parsed.query
        headers = {k: v for k, v in req.header_items()}
        if req.data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token:
            headers[TOKEN_HEADER] = self.token
        key = (parsed.scheme, parsed.netloc.rsplit("@", 1)[-1])
        method = "POST" if req.data is not None else "GET"
        reused = key in self._connections
        try:
            resp, text = self._exchange(key, timeout, method, target, req.data, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            # the server closed the idle keep-alive connection before reading our request: resend
            # at once on a fresh connection instead of waiting rpc_retry_wait seconds
            resp, text = self._exchange(key, timeout, method, target, req.data, headers)
        if not 200 <= resp.status < 300:
            raise _http_error(req.full_url, resp.status, resp.reason, text)
        return text

    def _exchange(
        self, key: tuple[str, str], timeout: float | None, method: str, target: str, data: bytes | None,
        headers: dict[str, str],
    ) -> tuple[http.client.HTTPResponse, str]:
        """One request/response on the kept-alive connection for ``key``; dropped on any error."""
        conn = self._connection(key[0], key[1], timeout)
        try:
            conn.request(method, target, body=data, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8")
        except BaseException:
            self._drop(key, conn)
            raise
        if resp.will_close:
            self._drop(key, conn)
        return resp, text

    def _drop(self, key: tuple[str, str], conn: http.client.HTTPConnection) -> None:
        conn.close()
        self._connections.pop(key, None)
        with self._lock:
            self._all.discard(conn)

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, set()
        for conn in conns:
            conn.close()
        self._local = threading.local()


class RequestsFetcher(_FetcherInterface):
    """Fetcher on a ``requests`` session (used when ``requests`` is installed and preferred)."""

    def __init__(self) -> None:
        import requests

        self._requests = requests
        self.raises = requests.exceptions.RequestException
        self.session = requests.Session()
        self.process_id = os.getpid()
        self.token = _configured_token()

    def check_pid(self) -> None:
        """Sessions are not fork-safe: start a new one in a forked child."""
        if os.getpid() != self.process_id:
            self.session = self._requests.Session()
            self.process_id = os.getpid()

    def fetch(self, full_url: str, body: dict | None, timeout: float | None) -> str:
        self.check_pid()
        headers = {TOKEN_HEADER: self.token} if self.token else None
        resp = self.session.post(full_url, data=body, timeout=timeout, headers=headers)
        resp.raise_for_status()
        return resp.text

    def close(self) -> None:
        self.session.close()


class _ClientError(urllib.error.HTTPError):
    """A 4xx answer: the request itself is wrong, so retrying cannot help."""


def _http_error(url: str, status: int, reason: str, text: str) -> urllib.error.HTTPError:
    """An ``HTTPError`` whose message carries the server's JSON error text when there is one."""
    detail = reason
    try:
        detail = json.loads(text)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        pass
    cls = _ClientError if 400 <= status < 500 else urllib.error.HTTPError
    return cls(url, status, detail, None, None)


def _configured_token() -> str | None:
    """Shared-secret token from ``LUIGI_SCHEDULER_TOKEN`` or ``[scheduler] auth_token`` (None if unset)."""
    token = os.environ.get(TOKEN_ENV) or configuration.get_config().get("scheduler", "auth_token", None)
    return token or None


class _Retryer:
    """Call a function up to ``attempts`` times, ``wait`` seconds apart, running ``after`` after each
    failed attempt (same shape as the ``tenacity.Retrying`` object Luigi uses, without the dependency).
    ``give_up`` exceptions are not retried."""

    def __init__(self, attempts: int, wait: float, after: Callable[[int], None], give_up: tuple = ()) -> None:
        self.attempts = max(1, attempts)
        self.wait = wait
        self.after = after
        self.give_up = give_up

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, self.attempts + 1):
            try:
                return fn(*args, **kwargs)
            except self.give_up:
                raise
            except Exception:
                self.after(attempt)
                if attempt == self.attempts:
                    raise
                time.sleep(self.wait)
        raise AssertionError("unreachable")


class RemoteScheduler:
    """Scheduler proxy talking to ``luigid`` over HTTP (same RPC methods as ``Scheduler``)."""

    def __init__(self, url: str = "http://localhost:8082/", connect_timeout: float | None = None) -> None:
        assert not url.startswith("http+unix://") or HAS_UNIX_SOCKET, (
            "You need to install requests-unixsocket for Unix socket support."
        )
        self._url = url.rstrip("/")
        config = configuration.get_config()
        if connect_timeout is None:
            connect_timeout = _get_core(config, "getfloat", "rpc_connect_timeout", 10.0)
        self._connect_timeout = connect_timeout
        self._rpc_retry_attempts = _get_core(config, "getint", "rpc_retry_attempts", 3)
        self._rpc_retry_wait = _get_core(config, "getint", "rpc_retry_wait", 30)
        self._rpc_log_retries = _get_core(config, "getboolean", "rpc_log_retries", True)
        self._fetcher: _FetcherInterface
        if HAS_REQUESTS and not self._url.startswith("http+unix://"):
            self._fetcher = RequestsFetcher()
        else:
            self._fetcher = URLLibFetcher()

    def close(self) -> None:
        self._fetcher.close()

    def _log_attempt(self, attempt_number: int) -> None:
        if self._rpc_log_retries:
            logger.warning("Failed connecting to remote scheduler %r", self._url, exc_info=True)
            logger.info(f"Retrying attempt {attempt_number + 1!r} of {self._rpc_retry_attempts!r} (max)")
            logger.info(f"Wait for {int(self._rpc_retry_wait)} seconds")

    def _get_retryer(self) -> _Retryer:
        return _Retryer(self._rpc_retry_attempts, self._rpc_retry_wait, self._log_attempt, give_up=(_ClientError,))

    def _fetch(self, url_suffix: str, body: dict) -> str:
        full_url = _urljoin(self._url, url_suffix)
        try:
            return self._get_retryer()(self._fetcher.fetch, full_url, body, self._connect_timeout)
        except _ClientError as e:
            raise RPCError(
                f"Remote scheduler {self._url!r} rejected {url_suffix}: {e.code} {e.reason}", e
            ) from e
        except self._fetcher.raises as e:
            raise RPCError(
                f"Errors ({int(self._rpc_retry_attempts)} attempts) when connecting to remote scheduler {self._url!r}",
                e,
            ) from e

    def _request(self, url: str, data: dict, attempts: int = 3, allow_null: bool = True) -> Any:
        body = {"data": json.dumps(data)}
        for _ in range(attempts):
            page = self._fetch(url, body)
            response = json.loads(page)["response"]
            if allow_null or response is not None:
                return response
        raise RPCError(f"Received null response from remote scheduler {self._url!r}")


def _get_core(config: Any, getter: str, name: str, default: Any) -> Any:
    """Read ``[core] <name>`` accepting the dashed spelling too (underscore preferred)."""
    value = getattr(config, getter)("core", name, None)
    if value is None:
        value = getattr(config, getter)("core", name.replace("_", "-"), default)
    return value


for _name, _stub in RPC_METHODS.items():
    setattr(RemoteScheduler, _name, _stub)
