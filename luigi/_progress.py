"""Live progress display for a worker's run: done / running / pending / failed counts.

Three small parts:

* :func:`render_line` -- pure function from counts to one line of text;
* :class:`ProgressTracker` -- the counts, read from the worker's own bookkeeping: the list of statuses
  it reported (``_add_task_history``), the list of work grants it received
  (``_get_work_response_history``) and its table of running tasks (``_running_tasks``).  Nothing is
  hooked into the worker, so it pays nothing per task; the tracker absorbs, in one batch, only what
  was appended since it was last asked -- nothing ever scans all tasks.  This works for any number of
  worker processes, because that bookkeeping lives in the worker's process (task events fired inside
  child processes would be invisible here);
* :class:`ProgressDisplay` -- a daemon thread that redraws the line in place on a terminal (at most
  ``MAX_REDRAWS_PER_SECOND`` times a second) or, when stdout is not a terminal, logs a plain line on
  ``luigi-interface`` every ``[core] progress_log_interval`` seconds.

Turned off with ``--no-progress`` or ``[core] progress = false``.
"""

from __future__ import annotations

import logging
import operator
import sys
import threading
import time
from collections.abc import Mapping
from itertools import filterfalse
from typing import Any, Callable, TextIO

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
    """Tasks per display bucket, kept up to date from the worker's bookkeeping in batches.

    Sources, appended to by the worker's main thread and only read here: ``history`` holds
    ``(task, status, runnable)`` for every status reported to the scheduler, ``grants`` the get-work
    responses (``{"task_id": ...}``) and ``running`` maps the ids of the tasks running right now.
    Every reported task is in one bucket (its last report: pending, done, complete or failed); a
    task that is running is shown as running instead.  :meth:`counts` first absorbs the entries
    appended since the previous call (one dict update per report, one dict lookup per grant) and
    then looks up the few running tasks, so its cost follows the run's progress, not its size.
    """

    def __init__(self, history: list | None = None, grants: list | None = None, running: Mapping[str, Any] | None = None) -> None:
        self._history = history if history is not None else []
        self._grants = grants if grants is not None else []
        self._running = running if running is not None else {}
        self._history_read = 0
        self._grants_read = 0
        self._bucket_of: dict[str, str] = {}
        self._totals = dict.fromkeys((PENDING, DONE, COMPLETE, FAILED), 0)
        # Ids handed to this worker before it reported them (e.g. loaded from the scheduler): their
        # DONE means "done", not "complete".  Ids already reported are not kept here (memory).
        self._granted: set = set()
        self._lock = threading.Lock()  # the display thread and the final draw may both ask

    @classmethod
    def for_worker(cls, worker: Any) -> ProgressTracker:
        return cls(worker._add_task_history, worker._get_work_response_history, worker._running_tasks)

    def counts(self) -> dict[str, int]:
        """``{bucket: number of tasks}`` for all five buckets, as of now."""
        with self._lock:
            self._absorb_grants()
            self._absorb_reports()
            counts = dict(self._totals)
            running = _snapshot_keys(self._running)
            for task_id in running:
                bucket = self._bucket_of.get(task_id)
                if bucket is not None:
                    counts[bucket] -= 1
        counts[RUNNING] = len(running)
        return counts

    def _absorb_grants(self) -> None:
        grants = self._grants[self._grants_read :]
        self._grants_read += len(grants)
        self._granted.update(filterfalse(self._bucket_of.__contains__, map(_GRANTED_TASK_ID, grants)))

    def _absorb_reports(self) -> None:
        reports = self._history[self._history_read :]
        self._history_read += len(reports)
        bucket_of, totals, granted = self._bucket_of, self._totals, self._granted
        for task, status, _ in reports:
            task_id = task.task_id
            old = bucket_of.get(task_id)
            if status == "PENDING":
                new: str | None = PENDING
            elif status == "DONE":
                already_complete = (old is None or old is COMPLETE) and task_id not in granted
                new = COMPLETE if already_complete else DONE
            elif status == "FAILED" or status == "UNKNOWN":
                new = FAILED
            else:  # DISABLED and anything unknown: not part of the work to do
                new = None
            if new is old:
                continue
            if old is not None:
                totals[old] -= 1
            if new is None:
                del bucket_of[task_id]
            else:
                bucket_of[task_id] = new
                totals[new] += 1


_GRANTED_TASK_ID = operator.itemgetter("task_id")


def _snapshot_keys(mapping: Mapping[str, Any]) -> list[str]:
    """The keys of a dict another thread may be changing (``list(dict)`` runs without releasing the GIL)."""
    while True:
        try:
            return list(mapping)
        except RuntimeError:  # changed size mid-copy (possible only for exotic mappings): copy again
            continue


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
        tracker: ProgressTracker | None = None,
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
        self.tracker = tracker if tracker is not None else ProgressTracker()
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

    def line(self, counts: Mapping[str, int] | None = None) -> str:
        width = None
        if self.is_tty:
            import shutil

            width = shutil.get_terminal_size().columns
        if counts is None:
            counts = self.tracker.counts()
        return render_line(counts, self._clock() - self._started_at, width)

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

    def _draw(self, final: bool = False, counts: Mapping[str, int] | None = None) -> None:
        text = _CLEAR_LINE + self.line(counts) + ("\n" if final else "")
        with self._write_lock:
            self._write(text)
            self._line_shown = not final

    def _loop(self) -> None:
        if self.is_tty:
            self._redraw_loop()
        else:
            self._log_loop()

    def _redraw_loop(self) -> None:
        """Poll the counts: redraw when they moved, after a log line, or once a second (the clock)."""
        min_gap = 1.0 / MAX_REDRAWS_PER_SECOND
        shown: dict[str, int] | None = None
        last_draw = self._clock()
        while not self._stopped.wait(min_gap):
            counts = self.tracker.counts()
            now = self._clock()
            if counts != shown or self._redraw_requested or now - last_draw >= 1.0:
                shown, self._redraw_requested, last_draw = counts, False, now
                self._draw(counts=counts)

    def _log_loop(self) -> None:
        while not self._stopped.wait(self.log_interval):
            if logger.isEnabledFor(logging.INFO):  # counting reads the run's history: only when shown
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
    """Make ``display`` show the progress of ``worker``'s run."""
    display.tracker = ProgressTracker.for_worker(worker)


def start_for_worker(worker: Any) -> ProgressDisplay | None:
    """Start a display for ``worker`` on stdout; ``None`` if the worker lacks the bookkeeping read."""
    if _active_display is not None:  # a build nested in a running task: the outer line stays
        return None
    lists = (getattr(worker, "_add_task_history", None), getattr(worker, "_get_work_response_history", None))
    if not all(isinstance(bookkeeping, list) for bookkeeping in lists):
        return None
    if not isinstance(getattr(worker, "_running_tasks", None), Mapping):
        return None
    from luigi.configuration import get_config

    interval = get_config().getfloat("core", "progress_log_interval", DEFAULT_LOG_INTERVAL)
    display = ProgressDisplay(log_interval=interval, tracker=ProgressTracker.for_worker(worker))
    return display.start()
