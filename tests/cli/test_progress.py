"""The live progress display: pure rendering, the O(1) tracker, a real pty, and plain log lines."""

from __future__ import annotations

import os
import pty
import select
import subprocess

from cli_support import luigi_command, luigi_env

import luigi
from luigi import _progress


def test_render_line_counts_and_clock():
    counts = {"done": 3, "complete": 1, "running": 2, "pending": 5, "failed": 1}
    assert _progress.render_line(counts, 7.9) == "[luigi 00:07] done 4/12 (1 already complete) | running 2 | pending 5 | failed 1"
    assert _progress.render_line({}, 3725) == "[luigi 1:02:05] done 0/0 | running 0 | pending 0 | failed 0"


def test_render_line_fits_the_terminal_width():
    line = _progress.render_line({"pending": 10}, 0, width=20)
    assert len(line) == 19 and line == "[luigi 00:00] done "


class _Task:
    def __init__(self, task_id):
        self.task_id = task_id


def test_tracker_follows_reports_grants_and_running_tasks():
    history, grants, running = [], [], {}
    tracker = _progress.ProgressTracker(history, grants, running)
    a, b, c, d = _Task("A"), _Task("B"), _Task("C"), _Task("D")
    history += [(a, "PENDING", True), (b, "PENDING", True), (c, "DONE", True)]  # C: complete when scheduled
    assert tracker.counts() == {"pending": 2, "running": 0, "done": 0, "complete": 1, "failed": 0}
    grants.append({"task_id": "A", "running_tasks": []})
    running["A"] = object()
    assert tracker.counts() == {"pending": 1, "running": 1, "done": 0, "complete": 1, "failed": 0}
    del running["A"]
    history.append((a, "DONE", None))
    grants.append({"task_id": "B", "running_tasks": []})
    running["B"] = object()
    history.append((b, "FAILED", None))  # reported before the worker forgets the process: shown as running
    assert tracker.counts() == {"pending": 0, "running": 1, "done": 1, "complete": 1, "failed": 0}
    del running["B"]
    grants.append({"task_id": None, "running_tasks": []})  # nothing granted
    assert tracker.counts() == {"pending": 0, "running": 0, "done": 1, "complete": 1, "failed": 1}
    history.append((c, "DONE", True))  # reported complete twice: still already complete
    grants.append({"task_id": "D", "running_tasks": []})  # granted without being scheduled here, then done
    history += [(d, "DONE", None), (b, "PENDING", True), (b, "DISABLED", None)]
    assert tracker.counts() == {"pending": 0, "running": 0, "done": 2, "complete": 1, "failed": 0}


class _RecordingList(list):
    """A history list that records where each slice read by the tracker starts."""

    def __init__(self, items):
        super().__init__(items)
        self.slice_starts = []

    def __getitem__(self, index):
        if isinstance(index, slice):
            self.slice_starts.append(index.start)
        return super().__getitem__(index)


def test_tracker_reads_each_report_once():
    history = _RecordingList((_Task(f"T{i}"), "PENDING", True) for i in range(1000))
    tracker = _progress.ProgressTracker(history, [], {})
    assert tracker.counts()["pending"] == 1000
    history.append((_Task("T0"), "DONE", None))
    assert tracker.counts() == {"pending": 999, "running": 0, "done": 1, "complete": 0, "failed": 0}
    assert tracker.counts()["done"] == 1
    assert history.slice_starts == [0, 1000, 1001]


class Leaf(luigi.Task):
    n = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget(f"leaf-{self.n}.txt")

    def run(self):
        self.output().open("w").close()


class Root(luigi.Task):
    def requires(self):
        return [Leaf(n=n) for n in range(4)]

    def output(self):
        return luigi.LocalTarget("root.txt")

    def run(self):
        self.output().open("w").close()


def test_attached_tracker_follows_a_real_run(tmp_path):
    Leaf(n=0).output().open("w").close()
    seen = []

    class Factory(luigi.interface._WorkerSchedulerFactory):
        def create_worker(self, scheduler, worker_processes, assistant=False):
            worker = super().create_worker(scheduler, worker_processes, assistant)
            display = _progress.ProgressDisplay(stream=open(os.devnull, "w"))
            _progress.attach(worker, display)
            seen.append(display.tracker)
            return worker

    assert luigi.build([Root()], worker_scheduler_factory=Factory(), local_scheduler=True, no_progress=True)
    assert seen[0].counts() == {"pending": 0, "running": 0, "done": 4, "complete": 1, "failed": 0}


def _read_until(fd: int, needle: bytes, buffer: bytearray) -> bytes:
    """Read from a pty master until ``needle`` shows up; returns everything read so far."""
    while needle not in buffer:
        ready, _, _ = select.select([fd], [], [], 60)
        assert ready, f"timed out waiting for {needle!r}; got {bytes(buffer)!r}"
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            chunk = b""
        if not chunk:
            raise AssertionError(f"terminal closed before {needle!r}; got {bytes(buffer)!r}")
        buffer.extend(chunk)
    return bytes(buffer)


def _drain(fd: int, buffer: bytearray) -> bytes:
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return bytes(buffer)
        if not chunk:
            return bytes(buffer)
        buffer.extend(chunk)


def _start_on_pty(tmp_path, *extra):
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        luigi_command("--module", "cli_tasks", "AfterBlocker", "--local-scheduler", "--no-lock", *extra),
        cwd=tmp_path, env=luigi_env(tmp_path), stdin=subprocess.PIPE, stdout=slave, stderr=subprocess.PIPE, text=True,
    )
    os.close(slave)
    return master, proc


def test_progress_line_is_redrawn_in_place_on_a_terminal(tmp_path):
    master, proc = _start_on_pty(tmp_path)
    buffer = bytearray()
    try:
        for line in proc.stderr:
            if "BLOCKER STARTED" in line:
                break
        _read_until(master, b"| running 1 |", buffer)
        proc.stdin.write("go\n")
        proc.stdin.close()
        proc.stderr.read()
        assert proc.wait(timeout=120) == 0
        output = _drain(master, buffer).decode()
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "\r\x1b[2K[luigi " in output
    final_line = output.rsplit("\r\x1b[2K", 1)[1]
    assert final_line.endswith("done 3/3 | running 0 | pending 0 | failed 0\r\n")


def test_no_progress_flag_turns_the_line_off(tmp_path):
    master, proc = _start_on_pty(tmp_path, "--no-progress")
    buffer = bytearray()
    try:
        proc.stdin.write("go\n")
        proc.stdin.close()
        proc.stderr.read()
        assert proc.wait(timeout=120) == 0
        output = _drain(master, buffer).decode()
    finally:
        os.close(master)
    assert "[luigi " not in output


def test_config_option_turns_the_line_off(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[core]\nprogress = false\n")
    master, proc = _start_on_pty(tmp_path)
    buffer = bytearray()
    try:
        proc.stdin.write("go\n")
        proc.stdin.close()
        proc.stderr.read()
        assert proc.wait(timeout=120) == 0
        output = _drain(master, buffer).decode()
    finally:
        os.close(master)
    assert "[luigi " not in output


def test_plain_log_lines_when_stdout_is_not_a_terminal(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[core]\nprogress_log_interval = 0.05\n")
    proc = subprocess.Popen(
        luigi_command("--module", "cli_tasks", "AfterBlocker", "--local-scheduler", "--no-lock"),
        cwd=tmp_path, env=luigi_env(tmp_path), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        progress_line = None
        for line in proc.stderr:
            if line.startswith("INFO: Progress: [luigi ") and "running 1" in line:
                progress_line = line
                break
        assert progress_line is not None
        proc.stdin.write("go\n")
        proc.stdin.close()
        proc.stderr.read()
        assert proc.wait(timeout=120) == 0
        assert "\x1b" not in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "| pending " in progress_line


def test_only_one_display_at_a_time_so_nested_builds_stay_quiet():
    factory = luigi.interface._WorkerSchedulerFactory()
    outer_worker = factory.create_worker(factory.create_local_scheduler(), 1)
    inner_worker = factory.create_worker(factory.create_local_scheduler(), 1)
    outer = _progress.start_for_worker(outer_worker)
    try:
        assert outer is not None
        assert type(outer_worker._add_task_history) is list  # nothing hooked into the worker's appends
        assert type(outer_worker._get_work_response_history) is list
        assert _progress.start_for_worker(inner_worker) is None
    finally:
        outer.stop()
    again = _progress.start_for_worker(inner_worker)
    assert again is not None
    again.stop()


def test_display_is_skipped_for_workers_without_history_lists():
    class NotAWorker:
        _add_task_history = None
        _get_work_response_history = None

    assert _progress.start_for_worker(NotAWorker()) is None
