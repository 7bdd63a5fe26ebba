"""The central scheduler's HTTP application (``luigid``).

Routes: ``/api/<method>`` calls the RPC method of that name on a :class:`luigi.scheduler.Scheduler`
(GET or POST, arguments as the JSON form field ``data``, reply ``{"response": ...}``), ``/`` redirects
to a small status page under ``/static/``, ``/history`` and ``/tasklist`` show task history,
``/metrics`` exposes the metrics collector (Prometheus text format with ``metrics_collector =
prometheus``).

Why Tornado: it is maintained, asynchronous (one thread serves thousands of keep-alive worker
connections without a thread per client), and it is what Luigi uses, so deployments, reverse-proxy
setups and test harnesses (``tornado.testing``) written for Luigi keep working.

Differences from Luigi that a client can see, all on the error path:

* Bad requests get a 4xx JSON body ``{"error": {"status": N, "type": ..., "message": ...}}`` naming
  the problem, and the scheduler is not called: malformed JSON or a non-object ``data`` (400), an
  unknown method (404), unknown/missing keyword arguments or arguments of the wrong JSON type (400),
  bodies larger than ``[scheduler] max_request_body_bytes`` (413, default 16 MiB). Luigi answers 500
  to most of these. An empty ``data=`` (sent by the visualiser's pause button) means ``{}``.
* State is durable: see :mod:`luigi._store`. A state-changing call is answered only once it is
  committed to SQLite, in batches (group commit) at most ``_FLUSH_INTERVAL`` apart.

Security (read before exposing luigid): by default luigid listens on **all interfaces** (IPv4 and
IPv6) on port 8082, without TLS and without authentication, exactly like Luigi. Anyone who can reach
the port can mark tasks done, disable workers, pause scheduling, change resources, read task
parameters and error tracebacks, and state-changing calls are accepted via GET (so a web page a user
visits can trigger them). Bind to ``--address 127.0.0.1`` or a Unix socket, or put it behind a
reverse proxy with TLS and auth. A shared secret can be required: set ``[scheduler] auth_token`` (or
the environment variable ``LUIGI_SCHEDULER_TOKEN``) on the server and the workers; requests to
``/api/``, ``/history``, ``/tasklist`` and ``/metrics`` without the header
``X-Luigi-Scheduler-Token: <token>`` then get 401 (the bundled pages cannot send it).
"""

from __future__ import annotations

import asyncio
import datetime
import hmac
import inspect
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
import time
from collections import defaultdict
from typing import Any

import tornado.escape
import tornado.httpserver
import tornado.httputil
import tornado.ioloop
import tornado.netutil
import tornado.web

from luigi import configuration
from luigi.parameter import BoolParameter, IntParameter, ListParameter, Parameter
from luigi.scheduler import RPC_METHODS, Scheduler
from luigi.task import Config

logger = logging.getLogger("luigi.server")

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_FLUSH_INTERVAL = 0.05  # seconds; upper bound on how long a change stays only in memory
_DEFAULT_MAX_BODY = 16 * 1024 * 1024
_PRUNE_INTERVAL_MS = 60000
TOKEN_HEADER = "X-Luigi-Scheduler-Token"
TOKEN_ENV = "LUIGI_SCHEDULER_TOKEN"

# Methods that exist for in-process use only (they take Python objects, not JSON).
_NOT_OVER_HTTP = frozenset({"update_metrics_task_started"})


class cors(Config):
    """CORS settings for ``/api/`` (section ``[cors]``)."""

    enabled = BoolParameter(default=False, description="Enables CORS support.")
    allowed_origins = ListParameter(default=[], description="A list of allowed origins.")
    allow_any_origin = BoolParameter(default=False, description="Accept requests from any origin.")
    allow_null_origin = BoolParameter(default=False, description="Allow the null origin.")
    max_age = IntParameter(default=86400, description="Content of Access-Control-Max-Age.")
    allowed_methods = Parameter(default="GET, OPTIONS", description="Content of Access-Control-Allow-Methods.")
    allowed_headers = Parameter(
        default="Accept, Content-Type, Origin", description="Content of Access-Control-Allow-Headers."
    )
    exposed_headers = Parameter(default="", description="Content of Access-Control-Expose-Headers.")
    allow_credentials = BoolParameter(default=False, description="Indicates that the actual request can include user credentials.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_origins = set(i for i in self.allowed_origins if i not in ["*", "null"])


def _configured_token() -> str | None:
    token = os.environ.get(TOKEN_ENV) or configuration.get_config().get("scheduler", "auth_token", None)
    return token or None


class _BadRequest(tornado.web.HTTPError):
    """A client error found before the scheduler is called; ``str()`` is the message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, "%s", message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class _JsonErrorMixin:
    """JSON error bodies and the optional shared-secret check."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, _BadRequest):
            message, kind = str(exc), "bad_request"
        elif isinstance(exc, tornado.web.HTTPError):
            message, kind = exc.log_message or self._reason, "http_error"
        elif exc is not None:
            message, kind = f"{type(exc).__name__}: {exc}", "server_error"
        else:
            message, kind = self._reason, "http_error"
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish({"error": {"status": status_code, "type": kind, "message": message}})

    def _check_token(self) -> None:
        token = self.settings.get("auth_token")
        if token and not hmac.compare_digest(self.request.headers.get(TOKEN_HEADER, ""), token):
            raise tornado.web.HTTPError(401, f"missing or wrong {TOKEN_HEADER} header")


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _is_str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(i, str) for i in v)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_number_dict(v: Any) -> bool:
    return isinstance(v, dict) and all(_is_number(i) for i in v.values())


# Expected JSON type of every argument name the RPC methods take (None is accepted wherever the
# parameter's default is None). Names absent here take any JSON value.
_ARG_CHECKS: dict[str, tuple[str, Any]] = {
    **{
        name: ("a string", lambda v: isinstance(v, str))
        for name in (
            "task_id", "worker", "status", "family", "module", "tracking_url", "batch_id", "host",
            "task_family", "task_name", "message_id", "content", "upstream_status", "search", "task_str",
            "resource", "task", "status_message",
        )
    },
    **{
        name: ("a boolean", lambda v: v is None or isinstance(v, (bool, int)))  # Luigi's worker sends null
        for name in ("runnable", "accepts_messages", "assistant", "batchable", "include_done", "include_running")
    },
    **{name: ("a list of strings", _is_str_list) for name in ("deps", "new_deps", "batched_args", "owners")},
    "current_tasks": ("a list of strings", _is_str_list),
    "resources": ("an object of numbers", _is_number_dict),
    "decrease_resources": ("an object of numbers", _is_number_dict),
    "params": ("an object", lambda v: isinstance(v, dict)),
    "param_visibilities": ("an object of numbers", _is_number_dict),
    "retry_policy_dict": ("an object", lambda v: isinstance(v, dict)),
    "statistics": ("an object", lambda v: isinstance(v, dict)),
    "info": ("an object or a list of pairs", lambda v: isinstance(v, dict) or (
        isinstance(v, list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in v))),
    "priority": ("a number", _is_number),
    "max_batch_size": ("a number", _is_number),
    "progress_percentage": ("a number", _is_number),
    "n": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "max_shown_tasks": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
}

# Arguments Luigi asserts on deep inside the call; checked up front so the state is untouched.
_REQUIRED_NOT_NULL = {"add_task": ("worker", "task_id"), "get_work": ("worker",), "ping": ("worker",)}


def _signature(method: str) -> inspect.Signature:
    sig = _SIGNATURES.get(method)
    if sig is None:
        stub = RPC_METHODS[method]
        sig = inspect.signature(getattr(stub, "__wrapped__", stub))
        params = list(sig.parameters.values())
        if params and params[0].name == "self":
            sig = sig.replace(parameters=params[1:])
        _SIGNATURES[method] = sig
    return sig


_SIGNATURES: dict[str, inspect.Signature] = {}


def _check_arguments(method: str, arguments: Any) -> None:
    """Raise :class:`_BadRequest` unless ``arguments`` fit ``method``'s signature and JSON types."""
    if not isinstance(arguments, dict):
        raise _BadRequest(400, f"{method}: 'data' must be a JSON object, got {_json_type_name(arguments)}")
    sig = _signature(method)
    try:
        sig.bind(**arguments)
    except TypeError as e:
        raise _BadRequest(400, f"{method}: {e}") from None
    params = sig.parameters
    for name, value in arguments.items():
        check = _ARG_CHECKS.get(name)
        if check is None:
            continue
        param = params.get(name)
        if value is None and (param is None or param.default is None or param.kind is param.VAR_KEYWORD):
            continue
        description, ok = check
        if not ok(value):
            raise _BadRequest(
                400, f"{method}: argument '{name}' must be {description}, got {_json_type_name(value)}"
            )
    for name in _REQUIRED_NOT_NULL.get(method, ()):
        if arguments.get(name) is None:
            raise _BadRequest(400, f"{method}: argument '{name}' is required")


def _share_strings(method: str, arguments: dict[str, Any], state: Any) -> None:
    """Replace strings of a request that the scheduler keeps by copies it already holds.

    Every request decodes fresh copies of the same strings, and the scheduler keeps some of them
    per task for as long as the task lives: the worker id (in the task's ``stakeholders`` and
    ``workers``), the ids of its dependencies (in ``deps`` and the dependency indexes; the
    dependency usually exists already, under its own copy of the id), the status, family, module
    and parameter names, and the ``param_visibilities`` dict (the same for every task of a family).
    Sharing them saves about 300 bytes per task held. Worker ids, statuses, families and names
    are few and interned; dependency ids are resolved to the key of the existing task, which costs
    a dict lookup instead of an intern-table entry per task. The scheduler never changes these
    dicts in place, so one can serve many tasks."""
    worker = arguments.get("worker")
    if isinstance(worker, str):
        arguments["worker"] = sys.intern(worker)
    if method != "add_task":
        return
    for name in ("family", "module", "status"):
        value = arguments.get(name)
        if isinstance(value, str):
            arguments[name] = sys.intern(value)
    params = arguments.get("params")
    if isinstance(params, dict):
        arguments["params"] = {sys.intern(key): item for key, item in params.items()}
    visibilities = arguments.get("param_visibilities")
    if isinstance(visibilities, dict):
        arguments["param_visibilities"] = _shared_visibilities(visibilities)
    for name in ("deps", "new_deps"):
        ids = arguments.get(name)
        if ids:
            arguments[name] = [_known_id(state, task_id) for task_id in ids]


_VISIBILITIES: dict[tuple, dict[str, Any]] = {}
_MAX_SHARED_VISIBILITIES = 10000  # distinct parameter-visibility maps kept for sharing


def _shared_visibilities(visibilities: dict[str, Any]) -> dict[str, Any]:
    """One dict per distinct ``param_visibilities`` map (usually one per task family)."""
    key = tuple(visibilities.items())
    shared = _VISIBILITIES.get(key)
    if shared is None:
        shared = {sys.intern(name): level for name, level in key}
        if len(_VISIBILITIES) < _MAX_SHARED_VISIBILITIES:
            _VISIBILITIES[key] = shared
    return shared


def _known_id(state: Any, task_id: str) -> str:
    """The scheduler's own copy of ``task_id`` if it has that task, else ``task_id``."""
    task = state.get_task(task_id)
    return task_id if task is None else task.id


_reply_encoder = json.JSONEncoder()


def _encode_reply(result: Any) -> bytes:
    """``{"response": result}`` as JSON bytes, escaping ``</`` like Tornado's ``write(dict)`` (so a
    reply shown inside a page cannot close a ``<script>``) without its per-call encoder setup."""
    return _reply_encoder.encode({"response": result}).replace("</", "<\\/").encode()


def _decode_data(raw: str) -> Any:
    raw = raw.strip()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as e:
        raise _BadRequest(400, f"'data' is not valid JSON: {e}") from None


@tornado.web.stream_request_body
class RPCHandler(_JsonErrorMixin, tornado.web.RequestHandler):
    """``/api/<method>``: decode ``data``, check it, call the scheduler, reply ``{"response": ...}``.

    The body is streamed so that an oversized one can be refused with 413 from its
    ``Content-Length`` (or as soon as it grows past the limit) instead of being buffered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cors_config = None

    def initialize(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self._chunks: list[bytes] = []
        self._size = 0

    def prepare(self) -> None:
        if self.request.method != "OPTIONS":  # CORS preflights never carry the token
            self._check_token()
        self._limit = self.settings.get("max_body_bytes", _DEFAULT_MAX_BODY)
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > self._limit:
            raise _BadRequest(413, f"request body of {length} bytes exceeds the limit of {self._limit} bytes")
        self.request.connection.set_max_body_size(self._limit + 1)

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size <= self._limit:
            self._chunks.append(chunk)

    def compute_etag(self) -> None:
        """No ``Etag`` (Tornado hashes every GET reply for one): RPC replies are never revalidated."""
        return None

    def _cors(self) -> cors:
        """The ``[cors]`` settings, read once per application rather than once per request."""
        if self._cors_config is None:
            self._cors_config = self.settings.get("cors_config") or cors()
        return self._cors_config

    def options(self, *args: Any) -> None:
        if self._cors().enabled:
            self._handle_cors_preflight()
        self.set_status(204)
        self.finish()

    def _arguments(self) -> Any:
        if self._size > self._limit:
            raise _BadRequest(413, f"request body exceeds the limit of {self._limit} bytes")
        if self._chunks:
            body = b"".join(self._chunks)
            self.request.body = body
            tornado.httputil.parse_body_arguments(
                self.request.headers.get("Content-Type", ""), body, self.request.body_arguments,
                self.request.files, self.request.headers,
            )
            for name, values in self.request.body_arguments.items():
                self.request.arguments.setdefault(name, []).extend(values)
        return _decode_data(self.get_argument("data", default="{}"))

    async def get(self, method: str) -> None:
        if method not in RPC_METHODS or not hasattr(self._scheduler, method):
            raise _BadRequest(404, f"unknown RPC method {method!r}")
        if method in _NOT_OVER_HTTP:
            raise _BadRequest(400, f"{method} is only callable in-process")
        arguments = self._arguments()
        _check_arguments(method, arguments)
        _share_strings(method, arguments, self._scheduler._state)
        result = getattr(self._scheduler, method)(**arguments)
        saver = self.settings.get("state_saver")
        if saver is not None:
            saver.note_call(method, arguments, result)
            if saver.must_wait(method):
                await saver.committed()
        if self._cors().enabled:
            self._handle_cors()
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(_encode_reply(result))

    post = get

    def _allow_origin(self) -> str | None:
        """Set ``Access-Control-Allow-Origin`` when ``[cors]`` admits the request's origin.

        Returns the value set (``"null"``, ``"*"`` or the origin itself), or None when not admitted.
        """
        config = self._cors()
        origin = self.request.headers.get("Origin")
        if not origin:
            return None
        if origin == "null":
            allowed = "null" if config.allow_null_origin else None
        elif config.allow_any_origin:
            allowed = "*"
        else:
            allowed = origin if origin in config.allowed_origins else None
        if allowed is not None:
            self.set_header("Access-Control-Allow-Origin", allowed)
        return allowed

    def _handle_cors_preflight(self) -> None:
        if self._allow_origin() is None:
            return
        config = self._cors()
        self.set_header("Access-Control-Max-Age", str(config.max_age))
        self.set_header("Access-Control-Allow-Methods", config.allowed_methods)
        self.set_header("Access-Control-Allow-Headers", config.allowed_headers)
        if config.allow_credentials:
            self.set_header("Access-Control-Allow-Credentials", "true")
        if config.exposed_headers:
            self.set_header("Access-Control-Expose-Headers", config.exposed_headers)

    def _handle_cors(self) -> None:
        allowed = self._allow_origin()
        if allowed is not None and allowed not in ("null", "*"):
            self.add_header("Vary", "Origin")


class BaseTaskHistoryHandler(_JsonErrorMixin, tornado.web.RequestHandler):
    """Base of the history pages; answers 404 (not 500) when history is off or a record is unknown."""

    def initialize(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    def get_template_path(self) -> str:
        return os.path.join(_PACKAGE_DIR, "templates")

    def prepare(self) -> None:
        self._check_token()

    def get_template_namespace(self) -> dict[str, Any]:
        """Adds ``root``: the relative way back to the app root, so links work behind a path prefix."""
        namespace = super().get_template_namespace()
        namespace["root"] = "../" * (self.request.path.count("/") - 1) or "./"
        return namespace

    @property
    def _history(self) -> Any:
        history = self._scheduler.task_history
        if not hasattr(history, "find_all_runs"):
            raise tornado.web.HTTPError(404, "task history is not enabled ([scheduler] record_task_history)")
        return history


class AllRunHandler(BaseTaskHistoryHandler):
    def get(self) -> None:
        names = sorted({record.name for record in self._history.find_all_runs()})
        self.render("menu.html", tasknames=names)


class SelectedRunHandler(BaseTaskHistoryHandler):
    def get(self, name: str) -> None:
        history = self._history
        names = {record.id: str(record.name) for record in history.find_all_runs()}
        status_results: dict[str, list[dict[str, Any]]] = defaultdict(list)
        task_results = []
        for event in history.find_all_events():
            if names.get(event.task_id) != str(name):
                continue
            status_results[str(event.event_name)].append(
                {"id": str(event.id), "task_id": str(event.task_id), "x": from_utc(str(event.ts)), "y": 0,
                 "next_process": ""}
            )
            task_results.append(
                {"id": str(event.id), "taskName": str(name), "task_id": str(event.task_id),
                 "status": str(event.event_name), "datetime": str(event.ts), "timestamp": from_utc(str(event.ts))}
            )
        self.render(
            "history.html", name=name, statusResults=json.dumps(status_results), taskResults=json.dumps(task_results),
            events=task_results,
        )


class RecentRunHandler(BaseTaskHistoryHandler):
    def get(self) -> None:
        history = self._history
        with history._session(None) as session:
            self.render("recent.html", tasks=history.find_latest_runs(session))


class ByNameHandler(BaseTaskHistoryHandler):
    def get(self, name: str) -> None:
        history = self._history
        with history._session(None) as session:
            self.render("recent.html", tasks=list(history.find_all_by_name(name, session)))


class ByIdHandler(BaseTaskHistoryHandler):
    def get(self, id: str) -> None:
        history = self._history
        if not id.isdigit():
            raise tornado.web.HTTPError(404, f"no task record with id {id!r}")
        with history._session(None) as session:
            task = history.find_task_by_id(int(id), session)
            if task is None:
                raise tornado.web.HTTPError(404, f"no task record with id {id!r}")
            self.render("show.html", task=task)


class ByTaskIdHandler(BaseTaskHistoryHandler):
    def get(self, task_id: str) -> None:
        history = self._history
        with history._session(None) as session:
            try:
                task = history.find_task_by_task_id(task_id, session)
            except IndexError:
                raise tornado.web.HTTPError(404, f"no task record for task id {task_id!r}") from None
            self.render("show.html", task=task)


class ByParamsHandler(BaseTaskHistoryHandler):
    def get(self, name: str) -> None:
        history = self._history
        arguments = _decode_data(self.get_argument("data", default="{}"))
        if not isinstance(arguments, dict):
            raise _BadRequest(400, "'data' must be a JSON object of parameter values")
        with history._session(None) as session:
            self.render("recent.html", tasks=list(history.find_all_by_parameters(name, session=session, **arguments)))


class RootPathHandler(BaseTaskHistoryHandler):
    """``GET /`` redirects (relatively, so it works under a path prefix); ``HEAD /`` is a health check."""

    def prepare(self) -> None:
        pass  # the health check and the status page are public

    def get(self) -> None:
        self.redirect("static/visualiser/index.html")

    def head(self) -> None:
        self.set_status(204)
        self.finish()


class MetricsHandler(_JsonErrorMixin, tornado.web.RequestHandler):
    def initialize(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler

    def prepare(self) -> None:
        self._check_token()

    def get(self) -> None:
        collector = self._scheduler._state._metrics_collector
        metrics = collector.generate_latest()
        if metrics:
            collector.configure_http_handler(self)
            self.write(metrics)


def from_utc(utcTime: str, fmt: str | None = None) -> int:
    """Epoch seconds of a ``YYYY-mm-dd HH:MM:SS[.ffffff]`` string read as local time (as Luigi does)."""
    for candidate in (fmt,) if fmt else ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            dt = datetime.datetime.strptime(utcTime, candidate)
        except ValueError:
            continue
        return int(time.mktime(dt.timetuple()))
    raise ValueError(f"No UTC format matches {utcTime}")


_access_log = logging.getLogger("tornado.access")


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access log line, but successful ``/api/`` calls only at DEBUG.

    A worker makes several RPCs per task and pings every second; formatting and writing one INFO
    line per call cost about 15% of luigid's CPU under load. Errors, pages and everything else are
    logged as Tornado does (INFO below 400, WARNING for 4xx, ERROR for 5xx)."""
    status = handler.get_status()
    if status < 400:
        level = logging.DEBUG if handler.request.path.startswith("/api/") else logging.INFO
    else:
        level = logging.WARNING if status < 500 else logging.ERROR
    if _access_log.isEnabledFor(level):
        request_time = 1000.0 * handler.request.request_time()
        _access_log.log(level, "%d %s %.2fms", status, handler._request_summary(), request_time)


def app(scheduler: Scheduler, **settings: Any) -> tornado.web.Application:
    """The Tornado application serving ``scheduler``; extra ``settings`` go to the Application."""
    handler_args = {"scheduler": scheduler}
    token = _configured_token()
    max_body = configuration.get_config().getint("scheduler", "max_request_body_bytes", _DEFAULT_MAX_BODY)
    app_settings = {
        "static_path": os.path.join(_PACKAGE_DIR, "static"),
        "unescape": tornado.escape.xhtml_unescape,
        "compress_response": True,
        "auth_token": token,
        "max_body_bytes": max_body,
        "cors_config": cors(),
        "log_function": _log_request,
        **settings,
    }
    handlers = [
        (r"/api/(.*)", RPCHandler, handler_args),
        (r"/", RootPathHandler, handler_args),
        (r"/tasklist", AllRunHandler, handler_args),
        (r"/tasklist/(.*?)", SelectedRunHandler, handler_args),
        (r"/history", RecentRunHandler, handler_args),
        (r"/history/by_name/(.*?)", ByNameHandler, handler_args),
        (r"/history/by_id/(.*?)", ByIdHandler, handler_args),
        (r"/history/by_task_id/(.*?)", ByTaskIdHandler, handler_args),
        (r"/history/by_params/(.*?)", ByParamsHandler, handler_args),
        (r"/metrics", MetricsHandler, handler_args),
    ]
    return tornado.web.Application(handlers, **app_settings)


# RPC methods whose effect lives in the settings row or a worker row rather than in task rows.
_SETTINGS_METHODS = frozenset({
    "pause", "unpause", "add_task_batcher", "disable_worker", "set_worker_processes", "add_worker",
    "update_resource", "update_resources",
})


class StateSaver:
    """Writes scheduler changes to the durable store in batches (group commit).

    A request that changed state awaits :meth:`committed`; one flush per event-loop turn serves every
    request that finished in that turn. A periodic flush (``_FLUSH_INTERVAL``) also catches changes
    made outside requests (pruning)."""

    def __init__(self, store: Any, scheduler: Scheduler) -> None:
        self._store = store
        self._scheduler = scheduler
        self._state = scheduler._state
        self._waiters: list[asyncio.Future] = []
        self._scheduled = False
        self._resource_overrides: dict[str, Any] = {}

    def restore_settings(self) -> None:
        """Give the scheduler back its pause flag and the resource limits set at runtime."""
        settings = self._store.settings()
        self._scheduler._paused = bool(settings.get("paused", False))
        overrides = settings.get("resources") or {}
        if overrides:
            self._scheduler.update_resources(**overrides)
            self._resource_overrides = dict(overrides)

    def note_call(self, method: str, arguments: dict[str, Any], result: Any) -> None:
        """Remember resource limits set through ``update_resource(s)``, to be saved with the settings.

        Only these runtime changes are kept, not the whole table: limits never changed at runtime
        keep following the ``[resources]`` configuration across restarts."""
        if method == "update_resources":
            self._resource_overrides.update(arguments)
        elif method == "update_resource" and result:
            self._resource_overrides[arguments["resource"]] = arguments["amount"]

    def must_wait(self, method: str) -> bool:
        """Whether a reply to ``method`` must wait for a commit.

        It must unless nothing it could have seen or done is still uncommitted: no flush is
        scheduled (so no other request's change is pending), no task row is waiting to be written
        (the state's changes are drained into the store's pending sets to find out), and the method is
        not one that changes only scheduler-wide settings or a worker's row (those always wait).
        A ``ping`` or an idle ``get_work`` thus answers at once; worker rows are written by the
        periodic flush anyway (see :mod:`luigi._store.sqlite`)."""
        if self._scheduled or method in _SETTINGS_METHODS:
            return True
        return self._store.collect(self._state)

    def committed(self) -> asyncio.Future:
        """A future resolved once everything changed so far is on disk."""
        future = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        if not self._scheduled:
            self._scheduled = True
            tornado.ioloop.IOLoop.current().add_callback(self.flush)
        return future

    def flush(self) -> None:
        self._scheduled = False
        waiters, self._waiters = self._waiters, []
        try:
            self._store.flush(self._state)
            self._store.save_settings(self._settings())
        except Exception as e:  # e.g. disk full: answer 500 rather than pretend it is saved
            logger.exception("Failed saving scheduler state to %s", self._store.path)
            for future in waiters:
                if not future.done():
                    future.set_exception(e)
            return
        for future in waiters:
            if not future.done():
                future.set_result(None)

    def close(self) -> None:
        self.flush()
        self._store.flush_all(self._state)
        self._store.close()

    def _settings(self) -> dict[str, Any]:
        """Scheduler-wide state kept next to the task/worker rows: the pause flag, task batchers and
        resource limits set at runtime."""
        return {"paused": self._scheduler._paused, "batchers": self._state._task_batchers,
                "resources": self._resource_overrides}


def _init_api(
    scheduler: Scheduler,
    api_port: int | str | None = None,
    address: str | None = None,
    unix_socket: str | None = None,
    state_saver: StateSaver | None = None,
) -> list[Any]:
    """Bind the listening sockets and attach the app to the current IOLoop; returns socket names."""
    api_app = app(scheduler, state_saver=state_saver)
    if unix_socket is not None:
        api_sockets = [tornado.netutil.bind_unix_socket(unix_socket)]
    else:
        api_sockets = tornado.netutil.bind_sockets(int(api_port or 0), address=address)
    max_body = api_app.settings["max_body_bytes"]
    server = tornado.httpserver.HTTPServer(api_app, max_body_size=max_body + 1)
    server.add_sockets(api_sockets)
    return [s.getsockname() for s in api_sockets]


def _open_store(scheduler: Scheduler) -> StateSaver | None:
    """Restore state from the SQLite store (or the legacy pickle) and return its saver.

    Falls back to Luigi's pickle-at-shutdown behaviour if the scheduler lacks the persistence
    contract (``drain_changes``/``restore``)."""
    state = scheduler._state
    if not (hasattr(state, "drain_changes") and hasattr(state, "restore")):
        logger.warning("Scheduler has no change tracking; state is saved only at shutdown")
        scheduler.load()
        return None
    from luigi._store import SqliteStateStore, store_path_for

    state_path = scheduler._config.state_path
    try:
        store = SqliteStateStore(store_path_for(state_path))
    except (OSError, sqlite3.Error) as e:
        logger.error("Cannot open state database for %s (%s); state is saved only at shutdown", state_path, e)
        scheduler.load()
        return None
    if not store.is_empty():
        store.load_into(state)
    elif state_path != store.path and os.path.exists(state_path):
        scheduler.load()  # import a Luigi pickle once; from now on SQLite is authoritative
        store.mark_all(state)
    store.flush(state)
    saver = StateSaver(store, scheduler)
    saver.restore_settings()
    return saver


def _format_address(name: Any) -> str:
    if isinstance(name, str):
        return name
    return f"[{name[0]}]:{name[1]}" if ":" in name[0] else f"{name[0]}:{name[1]}"


_loop: tornado.ioloop.IOLoop | None = None


def run(
    api_port: int | str = 8082,
    address: str | None = None,
    unix_socket: str | None = None,
    scheduler: Scheduler | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM/SIGQUIT or :func:`stop`; prunes every 60 s; saves state on exit."""
    global _loop
    if scheduler is None:
        scheduler = Scheduler()
    asyncio.set_event_loop(asyncio.new_event_loop())
    loop = _loop = tornado.ioloop.IOLoop.current()
    saver = _open_store(scheduler)
    names = _init_api(
        scheduler=scheduler, api_port=api_port, address=address, unix_socket=unix_socket, state_saver=saver
    )

    def prune() -> None:
        scheduler.prune()
        if saver is not None:
            saver.flush()

    tornado.ioloop.PeriodicCallback(prune, _PRUNE_INTERVAL_MS).start()
    if saver is not None:
        tornado.ioloop.PeriodicCallback(saver.flush, _FLUSH_INTERVAL * 1000).start()

    if threading.current_thread() is threading.main_thread():
        def shutdown_handler(signum: int, frame: Any) -> None:
            loop.add_callback_from_signal(loop.stop)

        for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGQUIT", None)):
            if sig is not None:
                signal.signal(sig, shutdown_handler)

    logger.info("Scheduler starting up, listening on %s", ", ".join(map(_format_address, names)))
    try:
        loop.start()
    finally:
        logger.info("Scheduler instance shutting down")
        if saver is not None:
            saver.close()
        close_history = getattr(scheduler.task_history, "close", None)
        if close_history is not None:
            close_history()  # write the queued history events
        if saver is None or scheduler._config.state_path.endswith(".pickle"):
            scheduler.dump()  # Luigi-compatible pickle (also flushes batched e-mails)
        elif hasattr(scheduler, "_email_batcher"):
            scheduler._email_batcher.send_email()
        loop.close(all_fds=True)
        _loop = None


def stop() -> None:
    """Stop the running server's IOLoop (safe from any thread)."""
    loop = _loop or tornado.ioloop.IOLoop.current()
    loop.add_callback(loop.stop)


if __name__ == "__main__":
    run()
