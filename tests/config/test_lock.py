"""luigi.lock with real processes holding the pid-file lock."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from luigi import lock

REPO = Path(__file__).resolve().parents[2]

HOLDER = textwrap.dedent(
    """
    import os, signal, sys
    from luigi import lock

    def on_signal(signum, frame):
        print("signalled", flush=True)

    signal.signal(signal.SIGUSR1, on_signal)
    pid_dir = sys.argv[1]  # options come via the environment: the lock identity is the command line
    size = int(os.environ["HOLDER_SIZE"])
    kill = signal.SIGUSR1 if os.environ["HOLDER_KILL"] == "1" else None
    print("acquired" if lock.acquire_for(pid_dir, size, kill) else "refused", flush=True)
    sys.stdin.readline()  # hold the lock until the test closes stdin
    """
)


@pytest.fixture
def holder_script(tmp_path):
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    return script


class Holder:
    """A subprocess that tries to take the lock and keeps running until released."""

    def __init__(self, script: Path, pid_dir: Path, size: int = 1, kill: bool = False) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO), HOLDER_SIZE=str(size), HOLDER_KILL=str(int(kill)))
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(pid_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.pid = self.proc.pid

    def lines_until_result(self) -> list[str]:
        lines = []
        while True:
            line = self.proc.stdout.readline()
            assert line, "holder exited early"
            lines.append(line.rstrip("\n"))
            if line.strip() in ("acquired", "refused"):
                return lines

    def release(self) -> str:
        out, _ = self.proc.communicate("\n", timeout=30)
        return out


def test_getpcmd_of_a_running_process():
    code = "import sys; print(1, flush=True); sys.stdin.read()"
    proc = subprocess.Popen([sys.executable, "-c", code, "a b", "à我ф"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"1\n"  # running our code, not just forked
        assert lock.getpcmd(proc.pid) == f"{sys.executable} -c {code} a b à我ф"
    finally:
        proc.communicate(b"")


def test_getpcmd_of_a_dead_process():
    proc = subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert proc.returncode == 0
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert lock.getpcmd(dead.pid) == f"[PROCESS_WITH_PID={dead.pid}]"


def test_get_info_names_pid_file_by_md5_of_command(tmp_path):
    my_pid, my_cmd, pid_file = lock.get_info(str(tmp_path))
    assert my_pid == os.getpid()
    assert my_cmd == lock.getpcmd(os.getpid())
    assert pid_file == os.path.join(str(tmp_path), hashlib.md5(my_cmd.encode("utf8")).hexdigest()) + ".pid"
    other_pid, _, _ = lock.get_info(str(tmp_path), my_pid=1)
    assert other_pid == 1


def test_second_identical_process_is_refused_until_the_first_exits(tmp_path, holder_script):
    pid_dir = tmp_path / "pids"
    first = Holder(holder_script, pid_dir)
    assert first.lines_until_result() == ["acquired"]
    assert stat.S_IMODE(os.stat(pid_dir).st_mode) == 0o700

    second = Holder(holder_script, pid_dir)
    assert second.lines_until_result() == [f"Pid(s) {{{first.pid}}} already running", "refused"]
    second.release()

    first.release()
    third = Holder(holder_script, pid_dir)
    assert third.lines_until_result() == ["acquired"]  # the dead first pid is filtered out
    pid_files = list(pid_dir.iterdir())
    assert [p.suffix for p in pid_files] == [".pid"]
    assert lock._read_pids_file(str(pid_files[0])) == {third.pid}
    third.release()


def test_lock_size_allows_that_many_processes(tmp_path, holder_script):
    pid_dir = tmp_path / "pids"
    holders = [Holder(holder_script, pid_dir, size=2) for _ in range(2)]
    assert [h.lines_until_result()[-1] for h in holders] == ["acquired", "acquired"]
    third = Holder(holder_script, pid_dir, size=2)
    lines = third.lines_until_result()
    assert lines[-1] == "refused"
    assert lines[0] in (
        f"Pid(s) {{{holders[0].pid}, {holders[1].pid}}} already running",
        f"Pid(s) {{{holders[1].pid}, {holders[0].pid}}} already running",
    )
    for h in [*holders, third]:
        h.release()


def test_take_lock_signals_running_duplicate_and_takes_over(tmp_path, holder_script):
    pid_dir = tmp_path / "pids"
    first = Holder(holder_script, pid_dir)
    assert first.lines_until_result() == ["acquired"]
    taker = Holder(holder_script, pid_dir, kill=True)
    assert taker.lines_until_result() == [f"Sent kill signal to Pids: {{{first.pid}}}", "acquired"]
    assert first.proc.stdout.readline() == "signalled\n"
    first.release()
    taker.release()


def test_take_lock_refused_when_too_many_remain(tmp_path, holder_script):
    pid_dir = tmp_path / "pids"
    holders = [Holder(holder_script, pid_dir, size=2) for _ in range(2)]
    assert [h.lines_until_result()[-1] for h in holders] == ["acquired", "acquired"]
    # with size 1 plus one slot for the signal, two live duplicates are still too many
    taker = Holder(holder_script, pid_dir, size=1, kill=True)
    lines = taker.lines_until_result()
    assert lines[0].startswith("Sent kill signal to Pids: {")
    assert lines[1].endswith("} already running")
    assert lines[2:] == [
        'Note: There have (probably) been 1 other "--take-lock" process which continued to run! '
        "Probably no need to run this one as well.",
        "refused",
    ]
    for h in holders:
        assert h.proc.stdout.readline() == "signalled\n"
        h.release()
    taker.release()


def test_simultaneous_starts_let_exactly_one_process_in(tmp_path, holder_script):
    pid_dir = tmp_path / "pids"
    holders = [Holder(holder_script, pid_dir) for _ in range(6)]
    results = [h.lines_until_result()[-1] for h in holders]
    assert sorted(results) == ["acquired"] + ["refused"] * 5
    for h in holders:
        h.release()


def test_acquire_in_process_records_own_pid_and_refuses_a_second_time(tmp_path, capsys):
    pid_dir = str(tmp_path / "pids")
    assert lock.acquire_for(pid_dir) is True
    _, _, pid_file = lock.get_info(pid_dir)
    assert Path(pid_file).read_text() == f"{os.getpid()}\n"
    assert lock.acquire_for(pid_dir) is False
    assert capsys.readouterr().out == f"Pid(s) {{{os.getpid()}}} already running\n"
    assert lock.acquire_for(pid_dir, num_available=2) is True


def test_acquire_for_with_unusable_pid_dir(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(OSError):
        lock.acquire_for(str(not_a_dir / "pids"))


def test_pid_file_world_bits_only_in_a_private_directory(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    lock._write_pids_file(str(private / "a.pid"), {1})
    assert stat.S_IMODE(os.stat(private / "a.pid").st_mode) == 0o777  # Luigi's mode, unreachable by others
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    lock._write_pids_file(str(shared / "a.pid"), {1})
    assert not stat.S_IMODE(os.stat(shared / "a.pid").st_mode) & 0o022  # nobody else may rewrite it


def test_pid_file_helpers(tmp_path):
    pid_file = str(tmp_path / "x.pid")
    assert lock._read_pids_file(pid_file) == set()
    lock._write_pids_file(pid_file, {3, 12})
    assert Path(pid_file).read_text() == "3\n12\n"
    Path(pid_file).write_text("5\n\n  \ngarbage\n7\n")
    assert lock._read_pids_file(pid_file) == {5, 7}


def test_kill_signal_uses_os_kill(tmp_path, monkeypatch, capsys):
    pid_dir = str(tmp_path)
    _, my_cmd, pid_file = lock.get_info(pid_dir)
    lock._write_pids_file(pid_file, {os.getpid()})
    sent = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    assert lock.acquire_for(pid_dir, 1, signal.SIGUSR1) is True  # the signal frees one slot
    assert sent == [(os.getpid(), signal.SIGUSR1)]
    assert capsys.readouterr().out == f"Sent kill signal to Pids: {{{os.getpid()}}}\n"
    assert lock._read_pids_file(pid_file) == {os.getpid()}
    assert lock.acquire_for(pid_dir, 0, signal.SIGUSR1) is False
    assert capsys.readouterr().out.endswith("Probably no need to run this one as well.\n")
