"""Live progress display for a worker's run: done / running / pending / failed counts.

Three small parts:

* :func:`render_line` -- pure function from counts to one line of text;
* :class:`ProgressTracker` -- per-task state machine fed by the worker's own bookkeeping. The worker
  appends every status it reports to ``_add_task_history`` and every work grant to
  ``_get_work_response_history``; :func:`start_for_worker` swaps those lists for observed lists, so
  each worker event costs one dict lookup and two counter updates -- nothing ever scans all tasks.
  This works for any number of worker processes, because those lists live in the worker's process
  (task events fired inside child processes would be invisible here);
* :class:`ProgressDisplay` -- a daemon thread that redraws the line in place on a terminal (at most
  ``MAX_REDRAWS_PER_SECOND`` times a second) or, when stdout is not a terminal, logs a plain line on
  ``luigi-interface`` every ``[core] progress_log_interval`` seconds.

Turned off with ``--no-progress`` or ``[core] progress = false``.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import Counter
from typing import Any, Callable, Mapping, TextIO

logger = logging.getLogger("luigi-interface")

MAX_REDRAWS_PER_SECOND = 5
DEFAULT_LOG_INTERVAL = 30.0
_CLEAR_LINE = "\r\x1b[2K"

# Display buckets. "complete" = already complete when scheduled; shown inside "done".
PENDING, RUNNING, DONE, COMPLETE, FAILED = "pending", "running", "done", "complete", "failed"


def enabled(no_progress_flag: bool) -> bool:
    """Progress is on unless ``--no-progress`` was given or ``[core] progress`` is false."""
    if no_progress_flag:
        return False
    from luigi.configuration import get_config

    return bool(get_config().getboolean("core", "progress", True))


def _format_elapsed(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def render_line(counts: Mapping[str, int], elapsed: float, width: int | None = None) -> str:
    """One progress line, e.g. ``[luigi 00:07] done 3/10 (1 already complete) | running 2 | pending 5 | failed 0``.

    ``width`` truncates the line for a terminal of that many columns (``None``: no limit).
    """
    done = counts.get(DONE, 0) + counts.get(COMPLETE, 0)
    total = done + counts.get(RUNNING, 0) + counts.get(PENDING, 0) + counts.get(FAILED, 0)
    already = f" ({counts[COMPLETE]} already complete)" if counts.get(COMPLETE) else ""
    line = (
        f"[luigi {_format_elapsed(elapsed)}] done {done}/{total}{already}"
        f" | running {counts.get(RUNNING, 0)} | pending {counts.get(PENDING, 0)} | failed {counts.get(FAILED, 0)}"
    )
    if width is not None and len(line) > width > 0:
        line = line[: max(width - 1, 0)]
    return line


class ProgressTracker:
    """Keeps one display bucket per task id and running totals per bucket (O(1) per event).

    Only the worker's main thread feeds the tracker, so events take no lock and wake nobody: the
    display thread polls :meth:`counts` and :attr:`changes` at its own cadence. ``on_change`` (if
    given) is called after every change.
    """

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self._state: dict[str, str] = {}
        self._counts: Counter = Counter()
        self._on_change = on_change
        self.changes = 0  # bumped on every change; lets a poller skip redraws when nothing moved

    def counts(self) -> dict[str, int]:
        while True:
            try:
                return dict(self._counts)
            except RuntimeError:  # a bucket was seen for the first time mid-copy: copy again
                continue

    def _move(self, task_id: str, bucket: str | None) -> None:
        state = self._state
        old = state.get(task_id)
        if old == bucket:
            return
        counts = self._counts
        if old is not None:
            counts[old] -= 1
        if bucket is None:
            del state[task_id]
        else:
            state[task_id] = bucket
            counts[bucket] += 1
        self.changes += 1
        if self._on_change is not None:
            self._on_change()

    def task_reported(self, task: Any, status: str, runnable: Any = None) -> None:
        """A status the worker sent to the scheduler for ``task`` (scheduling or result)."""
        task_id = getattr(task, "task_id", None)
        if task_id is None:
            return
        if status == "PENDING":
            bucket: str | None = PENDING
        elif status == "DONE":
            bucket = DONE if task_id in self._state else COMPLETE
        elif status in ("FAILED", "UNKNOWN"):
            bucket = FAILED
        else:  # DISABLED and anything unknown: not part of the work to do
            bucket = None
        self._move(task_id, bucket)

    def work_granted(self, response: Mapping[str, Any]) -> None:
        """The scheduler handed ``response['task_id']`` to this worker: it is starting."""
        task_id = response.get("task_id") if isinstance(response, Mapping) else None
        if task_id is not None:
            self._move(task_id, RUNNING)


class _ObservedList(list):
    """A list that calls ``observer(item)`` after every ``append``."""

    def __init__(self, items: list, observer: Callable[[Any], None]) -> None:
        super().__init__(items)
        self._observer = observer

    def append(self, item: Any) -> None:
        super().append(item)
        self._observer(item)


class _LineClearingFilter(logging.Filter):
    """Attached to terminal log handlers: wipes the progress line before a log record is printed."""

    def __init__(self, display: ProgressDisplay) -> None:
        super().__init__()
        self._display = display

    def filter(self, record: logging.LogRecord) -> bool:
        self._display.clear_line()
        return True


_active_display: ProgressDisplay | None = None


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class ProgressDisplay:
    """Drives the output: in-place redraws on a terminal, periodic log lines otherwise."""

    def __init__(
        self,
        stream: TextIO | None = None,
        log_interval: float = DEFAULT_LOG_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.is_tty = _is_tty(self.stream)
        self.log_interval = log_interval
        self._clock = clock
        self._started_at = clock()
        self._redraw_requested = False
        self._stopped = threading.Event()
        self._write_lock = threading.Lock()
        self._line_shown = False
        self._filters: list[tuple[logging.Handler, logging.Filter]] = []
        self.tracker = ProgressTracker()
        self._thread = threading.Thread(target=self._loop, name="luigi-progress", daemon=True)

    def start(self) -> ProgressDisplay:
        global _active_display
        _active_display = self
        if self.is_tty:
            self._install_log_filters()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread; on a terminal leave the final line on screen."""
        global _active_display
        self._stopped.set()
        self._thread.join()
        if _active_display is self:
            _active_display = None
        if self.is_tty:
            self._draw(final=True)
            self._remove_log_filters()

    def line(self) -> str:
        width = None
        if self.is_tty:
            import shutil

            width = shutil.get_terminal_size().columns
        return render_line(self.tracker.counts(), self._clock() - self._started_at, width)

    def clear_line(self) -> None:
        with self._write_lock:
            if self._line_shown:
                self._write(_CLEAR_LINE)
                self._line_shown = False
        self._redraw_requested = True  # redraw after the log line

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # closed or broken terminal: progress is best effort
            pass

    def _draw(self, final: bool = False) -> None:
        text = _CLEAR_LINE + self.line() + ("\n" if final else "")
        with self._write_lock:
            self._write(text)
            self._line_shown = not final

    def _loop(self) -> None:
        if self.is_tty:
            self._redraw_loop()
        else:
            self._log_loop()

    def _redraw_loop(self) -> None:
        """Poll the tracker's change counter: redraw when it moved, after a log line, or once a second."""
        min_gap = 1.0 / MAX_REDRAWS_PER_SECOND
        seen_changes = -1
        last_draw = self._clock()
        while not self._stopped.wait(min_gap):
            changes = self.tracker.changes
            now = self._clock()
            if changes != seen_changes or self._redraw_requested or now - last_draw >= 1.0:
                seen_changes, self._redraw_requested, last_draw = changes, False, now
                self._draw()

    def _log_loop(self) -> None:
        while not self._stopped.wait(self.log_interval):
            logger.info("Progress: %s", self.line())

    def _install_log_filters(self) -> None:
        seen = set()
        for name in (None, "luigi", "luigi-interface"):
            for handler in logging.getLogger(name).handlers:
                if id(handler) in seen or not _is_tty(getattr(handler, "stream", None)):
                    continue
                seen.add(id(handler))
                log_filter = _LineClearingFilter(self)
                handler.addFilter(log_filter)
                self._filters.append((handler, log_filter))

    def _remove_log_filters(self) -> None:
        for handler, log_filter in self._filters:
            handler.removeFilter(log_filter)
        self._filters.clear()


def attach(worker: Any, display: ProgressDisplay) -> None:
    """Feed ``display``'s tracker from the worker's status and work-grant histories."""
    tracker = display.tracker
    worker._add_task_history = _ObservedList(worker._add_task_history, lambda entry: tracker.task_reported(*entry))
    worker._get_work_response_history = _ObservedList(worker._get_work_response_history, tracker.work_granted)


def start_for_worker(worker: Any) -> ProgressDisplay | None:
    """Start a display for ``worker`` on stdout; ``None`` if the worker lacks the history lists."""
    if _active_display is not None:  # a build nested in a running task: the outer line stays
        return None
    histories = (getattr(worker, "_add_task_history", None), getattr(worker, "_get_work_response_history", None))
    if not all(isinstance(history, list) for history in histories):
        return None
    from luigi.configuration import get_config

    interval = get_config().getfloat("core", "progress_log_interval", DEFAULT_LOG_INTERVAL)
    display = ProgressDisplay(log_interval=interval)
    attach(worker, display)
    return display.start()
