"""``python -m luigi`` in a real subprocess: exit codes per ``[retcode]``, help, flags, workers."""

from __future__ import annotations

import subprocess

from cli_support import luigi_command, luigi_env, run_luigi


def test_success_exits_zero_and_writes_outputs(tmp_path, retcodes_cfg):
    result = run_luigi("--module", "cli_tasks", "FanIn", "--parts", "3", "--local-scheduler", "--no-lock", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fanin-3.txt").read_text() == "ok 0\nok 1\nok 2\n"
    assert "This progress looks :) because there were no failed tasks or missing dependencies" in result.stderr
    assert "* 4 ran successfully:" in result.stderr


def test_task_failure_uses_task_failed_code(tmp_path, retcodes_cfg):
    result = run_luigi("--module", "cli_tasks", "Fails", "--local-scheduler", "--no-lock", cwd=tmp_path)
    assert result.returncode == 30, result.stderr
    assert "ValueError: boom from Fails" in result.stderr
    assert "This progress looks :( because there were failed tasks" in result.stderr


def test_missing_external_dependency_uses_missing_data_code(tmp_path, retcodes_cfg):
    result = run_luigi("--module", "cli_tasks", "NeedsMissing", "--local-scheduler", "--no-lock", cwd=tmp_path)
    assert result.returncode == 20, result.stderr
    assert "* 1 were missing external dependencies:\n        - 1 MissingInput()" in result.stderr


def test_scheduling_error_uses_scheduling_error_code(tmp_path, retcodes_cfg):
    result = run_luigi("--module", "cli_tasks", "BrokenComplete", "--local-scheduler", "--no-lock", cwd=tmp_path)
    assert result.returncode == 35, result.stderr
    assert "* 1 failed scheduling:\n    - 1 BrokenComplete()" in result.stderr


def test_task_never_granted_uses_not_run_code(tmp_path, retcodes_cfg):
    retcodes_cfg.write_text(retcodes_cfg.read_text() + "\n[resources]\ncli_test_resource = 0\n")
    result = run_luigi("--module", "cli_tasks", "NeedsResource", "--local-scheduler", "--no-lock", cwd=tmp_path)
    assert result.returncode == 25, result.stderr
    assert "* 1 was not granted run permission by the scheduler:\n        - 1 NeedsResource()" in result.stderr


def test_bad_parameter_value_is_an_unhandled_exception(tmp_path, retcodes_cfg):
    result = run_luigi("--module", "cli_tasks", "Ok", "--n", "not-a-number", "--local-scheduler", "--no-lock", cwd=tmp_path)
    assert result.returncode == 40, result.stderr
    assert "Uncaught exception in luigi" in result.stderr


def test_default_retcodes_only_flag_unhandled_exceptions(tmp_path):
    assert run_luigi("--module", "cli_tasks", "Fails", "--local-scheduler", "--no-lock", cwd=tmp_path).returncode == 0
    bad = run_luigi("--module", "cli_tasks", "Ok", "--n", "x", "--local-scheduler", "--no-lock", cwd=tmp_path)
    assert bad.returncode == 4


def test_retcode_flags_override_config(tmp_path, retcodes_cfg):
    result = run_luigi(
        "--module", "cli_tasks", "Fails", "--local-scheduler", "--no-lock", "--retcode-task-failed", "7", cwd=tmp_path
    )
    assert result.returncode == 7, result.stderr


def test_second_identical_command_line_is_already_running(tmp_path, retcodes_cfg):
    args = ("--module", "cli_tasks", "Blocker", "--local-scheduler", "--lock-pid-dir", str(tmp_path / "pids"))
    first = subprocess.Popen(
        luigi_command(*args), cwd=tmp_path, env=luigi_env(tmp_path),
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    try:
        for line in first.stderr:  # the lock is held once the task runs
            if "BLOCKER STARTED" in line:
                break
        else:
            raise AssertionError("first run ended before its task started")
        second = run_luigi(*args, cwd=tmp_path)
        assert second.returncode == 10, second.stderr
        assert "already running" in second.stdout
        first.stdin.write("release\n")
        first.stdin.close()
        first.stderr.read()
        assert first.wait(timeout=120) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert (tmp_path / "blocker.txt").read_text() == "released\n"


def test_help_lists_core_flags_and_root_task_flags(tmp_path):
    result = run_luigi("--module", "cli_tasks", "FanIn", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "--local-scheduler" in result.stdout
    assert "--parts" in result.stdout
    assert not (tmp_path / "fanin-3.txt").exists()


def test_no_task_given_fails_with_message(tmp_path):
    result = run_luigi("--local-scheduler", cwd=tmp_path)
    assert result.returncode == 1
    assert "No task specified" in result.stderr


def test_global_task_param_flag_reaches_non_root_tasks(tmp_path):
    result = run_luigi("--module", "cli_tasks", "Ok", "--Ok-n", "42", "--local-scheduler", "--no-lock", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ok-42.txt").read_text() == "ok 42\n"


def test_two_workers_run_the_fan_in(tmp_path):
    result = run_luigi(
        "--module", "cli_tasks", "FanIn", "--parts", "4", "--workers", "2", "--local-scheduler", "--no-lock", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "Running Worker with 2 processes" in result.stderr
    assert (tmp_path / "fanin-4.txt").read_text() == "ok 0\nok 1\nok 2\nok 3\n"


def test_luigi_run_entry_point_exits_with_code(tmp_path, retcodes_cfg):
    code = (
        "import sys; from luigi.cmdline import luigi_run\n"
        "luigi_run(['--module', 'cli_tasks', 'Fails', '--local-scheduler', '--no-lock'])\n"
    )
    result = subprocess.run(
        [luigi_command()[0], "-c", code], cwd=tmp_path, env=luigi_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 30, result.stderr


def test_example_wordcount_pipeline_runs_from_repo_root(tmp_path):
    from cli_support import REPO

    out_dir = tmp_path / "wc"
    result = run_luigi(
        "--module", "examples.wordcount", "WordCount", "--out-dir", str(out_dir), "--local-scheduler", "--no-lock",
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    totals = dict(line.split("\t") for line in (out_dir / "total.tsv").read_text().splitlines())
    assert totals["the"] == "24"
    assert "* 7 ran successfully:" in result.stderr


def test_summary_length_flag_applies_to_the_summary(tmp_path):
    result = run_luigi(
        "--module", "cli_tasks", "FanIn", "--parts", "3", "--local-scheduler", "--no-lock",
        "--execution-summary-summary-length", "1", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "* 4 ran successfully:\n    - 1 FanIn(parts=3)\n    ...\n" in result.stderr
