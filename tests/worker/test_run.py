"""Worker.run() in the worker's own process: results, failures, events, dynamic deps, reschedules."""

from __future__ import annotations

import json
import os

import luigi
from luigi.event import Event
from tests.worker.conftest import make_recording_scheduler, make_worker


class FileTask(luigi.Task):
    name = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.name + ".txt")

    def run(self):
        with self.output().open("w") as fh:
            fh.write(self.name)


class Pair(luigi.Task):
    def requires(self):
        return [FileTask(name="a"), FileTask(name="b")]

    def output(self):
        return luigi.LocalTarget("pair.txt")

    def run(self):
        text = "".join(t.open().read() for t in self.input())
        with self.output().open("w") as fh:
            fh.write(text)


def run_worker(sch, *tasks, **kw):
    with make_worker(sch, **kw) as wk:
        added = all([wk.add(t) for t in tasks])
        return wk, added, wk.run()


def test_simple_pipeline_runs_in_process(sch, tmp_path):
    wk, added, ok = run_worker(sch, Pair())
    assert added and ok
    assert (tmp_path / "pair.txt").read_text() in ("ab", "ba")
    assert sch.status(Pair().task_id) == "DONE"
    done = [(t, s, r) for t, s, r in wk._add_task_history if s == "DONE"]
    assert {t for t, _, _ in done} == {Pair(), FileTask(name="a"), FileTask(name="b")}
    assert all(r is None for _, _, r in done)
    result_calls = [kw for name, _, kw in sch.calls if name == "add_task" and kw.get("status") == "DONE"]
    assert all(kw["expl"] == "null" and kw["runnable"] is None and kw["new_deps"] == [] for kw in result_calls)


def test_events_fire_in_documented_order(sch):
    seen = []
    for ev in (Event.START, Event.SUCCESS, Event.PROCESSING_TIME, Event.FAILURE):
        FileTask.event_handler(ev)(
            lambda *args, ev=ev: seen.append((ev, args[0].name) + tuple(type(a).__name__ for a in args[1:]))
        )
    run_worker(sch, FileTask(name="x"))
    assert seen == [(Event.START, "x"), (Event.PROCESSING_TIME, "x", "float"), (Event.SUCCESS, "x")]


def test_run_raising_reports_failure_with_json_traceback(sch, emails, caplog):
    class Boom(luigi.Task):
        def run(self):
            raise ValueError("kaboom")

    failures = []
    Boom.event_handler(Event.FAILURE)(lambda t, ex: failures.append(str(ex)))
    wk, added, ok = run_worker(sch, Boom())
    assert added and not ok
    assert failures == ["kaboom"]
    assert sch.status(Boom().task_id) == "FAILED"
    failed = [kw for name, _, kw in sch.calls if name == "add_task" and kw.get("status") == "FAILED"][0]
    expl = json.loads(failed["expl"])
    assert expl.startswith("Runtime error:\n") and "ValueError: kaboom" in expl
    assert emails[0][0].startswith("Luigi: Boom() FAILED. Host: ")
    assert f"Worker {wk._id} failed    Boom()" in caplog.text


def test_non_json_explanation_does_not_abort_run(sch):
    class Odd(luigi.Task):
        def run(self):
            pass

        def on_success(self):
            return {"when": object()}

    wk, added, ok = run_worker(sch, Odd())
    assert ok
    done = [kw for name, _, kw in sch.calls if name == "add_task" and kw.get("status") == "DONE"][0]
    assert json.loads(done["expl"])["when"].startswith("<object object")


def test_check_complete_on_run(sch):
    class NeverComplete(luigi.Task):
        def complete(self):
            return False

    wk, _, ok = run_worker(sch, NeverComplete(), check_complete_on_run=True)
    assert not ok
    failed = [kw for name, _, kw in sch.calls if name == "add_task" and kw.get("status") == "FAILED"][0]
    assert "Task finished running, but complete() is still returning false." in json.loads(failed["expl"])


def test_external_task_missing_at_run_time_fails_without_failure_event(sch):
    class Ext(luigi.ExternalTask):
        def output(self):
            return luigi.LocalTarget("absent")

    failures = []
    Ext.event_handler(Event.FAILURE)(lambda *a: failures.append(a))
    wk, added, ok = run_worker(sch, Ext(), retry_external_tasks=True)
    assert added and not ok
    failed = [kw for name, _, kw in sch.calls if name == "add_task" and kw.get("status") == "FAILED"][0]
    assert json.loads(failed["expl"]) == "Task is an external data dependency and data does not exist (yet?)."
    assert failures == []


def test_missing_external_dependency_never_hangs(sch):
    class Ext(luigi.ExternalTask):
        def output(self):
            return luigi.LocalTarget("never-appears")

    class Needs(luigi.Task):
        def requires(self):
            return Ext()

        def run(self):
            raise AssertionError("must not run")

    wk, added, ok = run_worker(sch, Needs())
    assert added is True and ok is True  # nothing ran; the summary reports the pending task
    assert sch.status(Needs().task_id) == "PENDING"


def test_unfulfilled_dependency_at_run_time_is_rescheduled_once(sch):
    class Flaky(luigi.Task):
        """Complete at scheduling time, then gone."""

        def complete(self):
            calls = Flaky.calls = getattr(Flaky, "calls", 0) + 1
            return calls == 1

        def output(self):
            return luigi.LocalTarget("flaky-out")

        def run(self):
            raise RuntimeError("cannot build")

    class User(luigi.Task):
        def requires(self):
            return Flaky()

        def run(self):
            pass

    wk, added, ok = run_worker(sch, User())
    assert not ok
    failed = [
        kw
        for name, _, kw in sch.calls
        if name == "add_task" and kw["task_id"] == User().task_id and kw.get("status") == "FAILED"
    ]
    expl = json.loads(failed[0]["expl"])
    assert f"RuntimeError: Unfulfilled dependency at run time: {Flaky().task_id} (flaky-out)" in expl
    # rescheduled once: User and Flaky re-sent as PENDING; the scheduler keeps the recently DONE Flaky
    # (stable_done_cooldown), so User runs again, finds the dependency missing again and gives up.
    assert wk.unfulfilled_counts[f"{Flaky().task_id} (flaky-out)"] == 2
    user_reports = [kw["status"] for name, _, kw in sch.calls if name == "add_task" and kw["task_id"] == User().task_id]
    assert user_reports == ["PENDING", "FAILED", "PENDING", "FAILED"]
    assert "PENDING" in [
        kw["status"] for name, _, kw in sch.calls if name == "add_task" and kw["task_id"] == Flaky().task_id
    ]


def test_dynamic_dependencies(sch, tmp_path):
    class Dyn(luigi.Task):
        def output(self):
            return luigi.LocalTarget("dyn.txt")

        def run(self):
            first = yield FileTask(name="d1")
            second = yield [FileTask(name="d2"), FileTask(name="d3")]
            with self.output().open("w") as fh:
                fh.write(first.open().read() + "".join(t.open().read() for t in second))

    wk, added, ok = run_worker(sch, Dyn())
    assert ok
    assert (tmp_path / "dyn.txt").read_text() == "d1d2d3"
    pending = [
        kw for name, _, kw in sch.calls if name == "add_task" and kw["task_id"] == Dyn().task_id and kw.get("new_deps")
    ]
    assert [kw["new_deps"] for kw in pending] == [
        [FileTask(name="d1").task_id],
        [FileTask(name="d2").task_id, FileTask(name="d3").task_id],
    ]
    assert (Dyn(), "PENDING", None) in wk._add_task_history


def test_status_message_progress_and_tracking_url_in_process(sch):
    class Reporting(luigi.Task):
        def run(self):
            self.set_status_message("half way")
            self.set_progress_percentage(50)
            self.set_tracking_url("http://tracker/1")

        def complete(self):
            return False

    wk, _, _ = run_worker(sch, Reporting())
    tid = Reporting().task_id
    assert sch.get_task_status_message(tid)["statusMessage"] == "half way"
    assert sch.get_task_progress_percentage(tid)["progressPercentage"] == 50
    assert any(kw.get("tracking_url") == "http://tracker/1" for name, _, kw in sch.calls if name == "add_task")
    task = wk._scheduled_tasks[tid]
    assert task.set_status_message is None and task.scheduler_messages is None


def test_task_process_context(sch, tmp_path):
    run_worker(sch, FileTask(name="ctx"), task_process_context="tests.worker.task_contexts.Context")
    assert (tmp_path / "context.log").read_text() == "enter ctx False\nexit ctx True\n"


def test_broken_task_process_context_fails_task_not_worker(sch):
    wk, added, ok = run_worker(sch, FileTask(name="c2"), task_process_context="tests.worker.no_such_module.Ctx")
    assert added and not ok
    assert sch.status(FileTask(name="c2").task_id) == "FAILED"


def test_scheduler_messages_in_process(sch):
    import threading

    got = []
    started = threading.Event()

    class Listener(luigi.Task):
        accepts_messages = True

        def run(self):
            started.set()
            msg = self.scheduler_messages.get(timeout=10)
            got.append(str(msg))
            msg.respond("pong")

        def complete(self):
            return bool(got)

    with make_worker(sch) as wk:
        wk.add(Listener())

        def send():
            started.wait(10)
            wk.dispatch_scheduler_message(Listener().task_id, "m1", "ping")

        threading.Thread(target=send).start()
        assert wk.run()
    assert got == ["ping"]
    assert sch._state.get_task(Listener().task_id).scheduler_message_responses == {"m1": "pong"}


def test_task_load_error_from_scheduler(sch, emails):
    wk = make_worker(sch, assistant=True)
    sch.add_task(
        worker="other",
        task_id="Ghost_1",
        family="NoSuchFamily",
        module="luigi",
        params={},
        status="PENDING",
        runnable=True,
    )
    assert wk.run() is False
    assert sch.status("Ghost_1") == "FAILED"
    assert emails and emails[0][0] == "Luigi: Cannot find task(s) sent by scheduler: Ghost_1"


def test_dynamic_dependency_keeps_private_parameters_in_process(sch, tmp_path):
    class Secretive(luigi.Task):
        token = luigi.Parameter(visibility=luigi.parameter.ParameterVisibility.PRIVATE, default="default")

        def output(self):
            return luigi.LocalTarget("secret.txt")

        def run(self):
            with self.output().open("w") as fh:
                fh.write(self.token)

    class Asks(luigi.Task):
        def output(self):
            return luigi.LocalTarget("asks.txt")

        def run(self):
            yield Secretive(token="s3cr3t")
            self.output().open("w").close()

    wk, added, ok = run_worker(sch, Asks())
    assert ok
    assert (tmp_path / "secret.txt").read_text() == "s3cr3t"


def test_completion_cache_avoids_rechecking_dynamic_requirements(sch):
    checks = []

    class Cheap(luigi.Task):
        i = luigi.IntParameter()

        def complete(self):
            checks.append(self.i)
            return os.path.exists(f"cheap-{self.i}")

        def run(self):
            open(f"cheap-{self.i}", "w").close()

    class Gen(luigi.Task):
        def complete(self):
            return os.path.exists("gen")

        def run(self):
            for i in range(3):
                yield Cheap(i=i)
            open("gen", "w").close()

    wk, added, ok = run_worker(sch, Gen(), cache_task_completion=True)
    assert ok
    # each requirement is found complete once through complete(), later from the cache
    assert sorted(c for c in checks if c == 0).count(0) <= 3
    assert wk._task_completion_cache[Cheap(i=0).task_id] is True


def test_batch_of_tasks_runs_once(sch, tmp_path):
    class Batch(luigi.Task):
        day = luigi.IntParameter(batch_method=max)

        def output(self):
            return luigi.LocalTarget(f"batch-{self.day}")

        def run(self):
            with open("batch-runs", "a") as fh:
                fh.write(f"{self.day}\n")
            for day in range(1, self.day + 1):
                luigi.LocalTarget(f"batch-{day}").open("w").close()

    class AllDays(luigi.WrapperTask):
        def requires(self):
            return [Batch(day=d) for d in (1, 2, 3)]

    wk, added, ok = run_worker(sch, AllDays())
    assert ok
    assert (tmp_path / "batch-runs").read_text() == "3\n"
    members = [(t.day, s) for t, s, r in wk._add_task_history if isinstance(t, Batch) and r is True and s == "DONE"]
    assert sorted(members) == [(1, "DONE"), (2, "DONE"), (3, "DONE")]


class ByOther(luigi.Task):
    def output(self):
        return luigi.LocalTarget("by-other")

    def run(self):
        self.output().open("w").close()


def test_assistant_runs_task_scheduled_by_another_worker(sch, tmp_path):
    make_worker(sch, worker_id="scheduler-only").add(ByOther())
    assistant = make_worker(sch, assistant=True)
    assert assistant.run() is True
    assert (tmp_path / "by-other").exists()
    assert sch.status(ByOther().task_id) == "DONE"
    result = [kw for name, _, kw in sch.calls if name == "add_task" and kw.get("status") == "DONE"][0]
    assert result["assistant"] is True


def test_non_assistant_worker_does_not_import_modules_named_by_the_scheduler(sch, emails):
    import sys

    assert "tabnanny" not in sys.modules
    wk = make_worker(sch)
    sch.add_task(
        worker=wk._id, task_id="Evil_1", family="Evil", module="tabnanny", params={}, status="PENDING", runnable=True
    )
    assert wk.run() is False
    assert "tabnanny" not in sys.modules
    assert sch.status("Evil_1") == "FAILED"
    assert emails[0][0] == "Luigi: Cannot find task(s) sent by scheduler: Evil_1"


def test_results_put_directly_on_the_queue_are_handled(sch):
    """Test code (as in Luigi's suite) may fake running tasks and push results itself."""
    from unittest import mock

    wk = make_worker(sch)
    task = FileTask(name="faked")
    wk.add(task)
    fake = mock.Mock(timeout_time=None)
    fake.is_alive.return_value = True
    wk._running_tasks[task.task_id] = fake
    wk._task_result_queue.put((task.task_id, "DONE", "", [], None))
    wk._handle_next_task()
    assert wk._running_tasks == {}
    assert sch.status(task.task_id) == "DONE"


def test_dynamic_dependencies_do_not_retraverse_known_subgraphs(sch):
    checks = []

    class Shared(luigi.Task):
        i = luigi.IntParameter()

        def complete(self):
            checks.append(self.i)
            return os.path.exists(f"shared-{self.i}")

        def run(self):
            open(f"shared-{self.i}", "w").close()

    class Part(luigi.Task):
        j = luigi.IntParameter()

        def requires(self):
            return [Shared(i=i) for i in range(20)]

        def complete(self):
            return os.path.exists(f"part-{self.j}")

        def run(self):
            open(f"part-{self.j}", "w").close()

    class Collector(luigi.Task):
        def complete(self):
            return os.path.exists("collector")

        def run(self):
            yield [Part(j=j) for j in range(10)]
            open("collector", "w").close()

    wk, added, ok = run_worker(sch, Collector())
    assert ok
    # While scheduling the ten dynamic parts, the shared subgraph is checked once, not ten times;
    # the task runs themselves check each Shared once more (unfulfilled-deps checks of each Part).
    scheduling_checks = len(checks) - 20 * 10
    assert scheduling_checks <= 20


class Quiet(luigi.Task):
    def complete(self):
        return False

    def run(self):
        pass


PER_TASK_LINES = (
    "Checking if Quiet() is complete",
    "Informed scheduler that task   Quiet__99914b932b   has status   PENDING",
    "Asking scheduler for work...",
    "Pending tasks: 1",
    "running   Quiet()",
    "done      Quiet()",
    "Informed scheduler that task   Quiet__99914b932b   has status   DONE",
)


def _per_task_lines_logged(sch, caplog):
    caplog.clear()
    luigi.task.Register.clear_instance_cache()
    wk, added, ok = run_worker(sch, Quiet())
    assert added and ok
    return [line for line in PER_TASK_LINES if line in caplog.text]


def test_per_task_log_lines_follow_level_changes(sch, caplog):
    """The worker skips the logging call of a per-task line whose level is off (a cached answer
    of the logger): a level lowered or raised later, even between builds, is still obeyed."""
    import logging

    caplog.set_level(logging.DEBUG, logger="luigi-interface")
    assert _per_task_lines_logged(sch, caplog) == list(PER_TASK_LINES)
    caplog.set_level(logging.WARNING, logger="luigi-interface")
    assert _per_task_lines_logged(make_recording_scheduler(), caplog) == []
    caplog.set_level(logging.INFO, logger="luigi-interface")
    assert _per_task_lines_logged(make_recording_scheduler(), caplog) == [
        line for line in PER_TASK_LINES if "Pending" not in line and "Asking" not in line and "Checking" not in line
    ]


def test_replaced_module_logger_sees_every_per_task_line(sch, monkeypatch):
    """A test double put in place of the worker's logger receives the calls, whatever the level
    of the real logger."""
    import logging
    from unittest import mock

    import luigi.worker

    logging.getLogger("luigi-interface").setLevel(logging.WARNING)
    double = mock.Mock(spec=["debug", "info", "warning", "error", "exception"])
    monkeypatch.setattr(luigi.worker, "logger", double)
    wk, added, ok = run_worker(sch, Quiet())
    assert added and ok
    informed = [c.args for c in double.info.call_args_list if c.args[0].startswith("Informed scheduler")]
    assert [args[2] for args in informed] == ["PENDING", "DONE"]


def test_reports_go_through_a_replaced_add_task(sch):
    """Replacing ``Worker._add_task`` (on a subclass or on the instance) sees every report the
    worker makes, with Luigi's keyword arguments."""
    from luigi.worker import Worker

    seen = []

    class Observing(Worker):
        def _add_task(self, *args, **kwargs):
            seen.append(("class", kwargs["task_id"], kwargs["status"], sorted(kwargs)))
            super()._add_task(*args, **kwargs)

    kw = dict(wait_interval=0.01, wait_jitter=0.0, no_install_shutdown_handler=True)
    with Observing(scheduler=sch, **kw) as wk:
        assert wk.add(Quiet()) and wk.run()
    assert [entry[:3] for entry in seen] == [("class", Quiet().task_id, "PENDING"), ("class", Quiet().task_id, "DONE")]
    assert "retry_policy_dict" in seen[0][3] and "new_deps" in seen[1][3]

    seen.clear()
    other = make_recording_scheduler()
    with make_worker(other) as wk:
        original = wk._add_task
        wk._add_task = lambda *a, **k: (seen.append(("instance", k["task_id"], k["status"])), original(*a, **k))
        luigi.task.Register.clear_instance_cache()
        assert wk.add(Quiet()) and wk.run()
    assert seen == [("instance", Quiet().task_id, "PENDING"), ("instance", Quiet().task_id, "DONE")]
    assert other.status(Quiet().task_id) == "DONE"
