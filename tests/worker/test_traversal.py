"""Worker.add(): graph traversal order, classification, bad input, task limit, memoisation."""

from __future__ import annotations

import pytest

import luigi
from luigi.event import Event
from luigi.worker import TaskException
from tests.worker.conftest import make_worker

LOG: list = []


class Node(luigi.Task):
    name = luigi.Parameter()
    children = luigi.ListParameter(default=[])
    is_done = luigi.BoolParameter(default=False, significant=False)

    def requires(self):
        return [Node(name=c) if isinstance(c, str) else Node(name=c[0], children=c[1]) for c in self.children]

    def complete(self):
        LOG.append(("complete", self.name))
        return self.is_done


@pytest.fixture(autouse=True)
def _clear_log():
    LOG.clear()


def _tree():
    # A requires [B, C]; B requires [D]
    return Node(name="A", children=[["B", ["D"]], "C"])


def test_traversal_order_matches_luigi(sch):
    discovered = []
    Node.event_handler(Event.DEPENDENCY_DISCOVERED)(lambda t, d: discovered.append((t.name, d.name)))
    wk = make_worker(sch)
    assert wk.add(_tree()) is True
    assert [n for kind, n in LOG] == ["A", "B", "C", "D"]
    names = {t.task_id: t.name for t in wk._scheduled_tasks.values()}
    assert [names[i] for i in sch.added()] == ["A", "C", "B", "D"]
    assert discovered == [("A", "B"), ("A", "C"), ("B", "D")]
    assert wk._add_task_history[0][0].name == "A"
    assert all(status == "PENDING" and runnable is True for _, status, runnable in wk._add_task_history)
    kwargs = [kw for name, _, kw in sch.calls if name == "add_task"][0]
    assert kwargs["deps"] == [Node(name="B", children=["D"]).task_id, Node(name="C").task_id]
    assert set(kwargs) >= {
        "worker",
        "task_id",
        "status",
        "deps",
        "runnable",
        "priority",
        "resources",
        "params",
        "family",
        "module",
        "batchable",
        "retry_policy_dict",
        "accepts_messages",
        "owners",
        "param_visibilities",
    }


def test_complete_task_is_done_and_not_traversed(sch):
    present = []
    Node.event_handler(Event.DEPENDENCY_PRESENT)(lambda t: present.append(t.name))
    wk = make_worker(sch)
    assert wk.add(Node(name="A", children=["B"], is_done=True))
    assert [n for _, n in LOG] == ["A"]
    assert present == ["A"]
    assert wk._add_task_history == [(Node(name="A", children=["B"]), "DONE", False)]


def test_shared_dependencies_are_checked_once_per_worker(sch):
    wk = make_worker(sch)
    wk.add(Node(name="R1", children=[["S", ["S1", "S2"]]]))
    wk.add(Node(name="R2", children=[["S", ["S1", "S2"]]]))
    checked = [n for _, n in LOG]
    assert checked.count("S") == 1 and checked.count("S1") == 1
    assert sch.status(Node(name="R2", children=[["S", ["S1", "S2"]]]).task_id) == "PENDING"


def test_deep_chain_does_not_recurse(sch):
    class Link(luigi.Task):
        i = luigi.IntParameter()

        def requires(self):
            return Link(i=self.i - 1) if self.i else []

        def complete(self):
            return False

    wk = make_worker(sch)
    assert wk.add(Link(i=5000)) is True
    assert len(wk._scheduled_tasks) == 5001


def test_external_missing_is_pending_not_runnable(sch, emails):
    missing = []

    class Ext(luigi.ExternalTask):
        def output(self):
            return luigi.LocalTarget("does-not-exist")

    Ext.event_handler(Event.DEPENDENCY_MISSING)(lambda t: missing.append(t))
    wk = make_worker(sch)
    assert wk.add(Ext()) is True
    assert wk._add_task_history == [(Ext(), "PENDING", False)]
    assert missing == [Ext()]
    wk2 = make_worker(sch, retry_external_tasks=True)
    wk2.add(Ext())
    assert wk2._add_task_history == [(Ext(), "PENDING", True)]


@pytest.mark.parametrize("bad", ["raise", "non-bool"])
def test_complete_error_marks_unknown(sch, emails, bad, caplog):
    class Bad(luigi.Task):
        def complete(self):
            if bad == "raise":
                raise RuntimeError("complete exploded")
            return "yes"

    missing = []
    Bad.event_handler(Event.DEPENDENCY_MISSING)(lambda t: missing.append(t))
    wk = make_worker(sch)
    assert wk.add(Bad()) is False
    assert wk._add_task_history == [(Bad(), "UNKNOWN", False)]
    assert missing == [Bad()]
    announce = [kw for name, _, kw in sch.calls if name == "announce_scheduling_failure"]
    expected = "complete exploded" if bad == "raise" else "Return value of Task.complete() must be boolean (was 'yes')"
    assert len(announce) == 1 and expected in announce[0]["expl"]
    assert emails and emails[0][0].startswith("Luigi: Bad() failed scheduling. Host: ")
    assert "Will not run Bad() or any dependencies due to error in complete() method" in caplog.text


def test_requires_error_is_broken_task(sch, emails):
    class BadReq(luigi.Task):
        def requires(self):
            raise KeyError("nope")

    broken = []
    BadReq.event_handler(Event.BROKEN_TASK)(lambda t, ex: broken.append(type(ex)))
    wk = make_worker(sch, send_failure_email=False)
    assert wk.add(BadReq()) is False
    assert broken == [KeyError]
    assert wk._add_task_history == [(BadReq(), "UNKNOWN", False)]
    assert emails == []  # send_failure_email off; announce still happened
    assert [name for name, _, _ in sch.calls if name == "announce_scheduling_failure"] == [
        "announce_scheduling_failure"
    ]


@pytest.mark.parametrize(
    "dep, message",
    [
        (lambda: 42, "requires() must return Task objects but 42 is a <class 'int'>"),
        (lambda: luigi.LocalTarget("x"), "requires() can not return Target objects. Wrap it in an ExternalTask class"),
    ],
)
def test_requires_returning_non_task_is_framework_error(sch, emails, dep, message):
    class Parent(luigi.Task):
        def requires(self):
            return dep()

    broken = []
    Parent.event_handler(Event.BROKEN_TASK)(lambda t, ex: broken.append(str(ex)))
    wk = make_worker(sch)
    with pytest.raises(
        Exception, match="^" + message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.") + "$"
    ):
        wk.add(Parent())
    assert wk.add_succeeded is False
    assert broken == [message]
    assert sch.added() == []  # the parent's add_task is never sent
    assert emails[0][0].startswith("Luigi: Framework error while scheduling Parent(). Host: ")


def test_non_task_and_uninitialized_task_raise_task_exception(sch, emails):
    wk = make_worker(sch)
    with pytest.raises(TaskException, match="Can not schedule non-task 3"):
        wk.add(3)

    class NoInit(luigi.Task):
        def __init__(self):
            pass

    with pytest.raises(TaskException, match="Task of class NoInit not initialized"):
        wk.add(NoInit())
    assert emails == []


def test_task_limit(sch, caplog):
    wk = make_worker(sch, task_limit=2)
    assert wk.add(Node(name="A", children=["B", "C", "D"])) is True
    statuses = [s for _, s, _ in wk._add_task_history]
    assert statuses.count("UNKNOWN") == 2 and statuses.count("PENDING") == 2
    assert "due to exceeded task-limit of 2" in caplog.text


def test_disabled_task_is_reported_disabled(sch):
    class Off(luigi.Task):
        disabled = True

    wk = make_worker(sch)
    wk.add(Off())
    assert wk._add_task_history == [(Off(), "DISABLED", True)]


def test_batcher_registered_once_per_family(sch):
    class Batched(luigi.Task):
        x = luigi.IntParameter(batch_method=max)

    class Top(luigi.WrapperTask):
        def requires(self):
            return [Batched(x=1), Batched(x=2)]

    wk = make_worker(sch)
    wk.add(Top())
    batchers = [kw for name, _, kw in sch.calls if name == "add_task_batcher"]
    assert batchers == [
        {"worker": wk._id, "task_family": "Batched", "batched_args": ["x"], "max_batch_size": float("inf")}
    ]


def test_parallel_scheduling_classifies_original_tasks(sch):
    class Leaf(luigi.Task):
        i = luigi.IntParameter()

        def complete(self):
            return self.i % 2 == 0

    class Top(luigi.WrapperTask):
        def requires(self):
            return [Leaf(i=i) for i in range(20)]

    top = Top()
    wk = make_worker(sch)
    assert wk.add(top, multiprocess=True, processes=2) is True
    statuses = {t.i: s for t, s, _ in wk._add_task_history if isinstance(t, Leaf)}
    assert statuses == {i: "DONE" if i % 2 == 0 else "PENDING" for i in range(20)}
    assert wk._scheduled_tasks[top.task_id] is top
    wk._close_checker()


def test_parallel_scheduling_survives_unpicklable_task_and_complete_errors(sch, emails):
    import threading

    class Unpicklable(luigi.Task):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.lock = threading.Lock()

        def complete(self):
            return True

    class Raises(luigi.Task):
        def complete(self):
            raise OSError("in pool")

    class Top(luigi.Task):
        def requires(self):
            return [Unpicklable(), Raises()]

        def complete(self):
            return False

    wk = make_worker(sch)
    assert wk.add(Top(), multiprocess=True, processes=2) is False
    statuses = {type(t).__name__: s for t, s, _ in wk._add_task_history}
    assert statuses["Unpicklable"] == "DONE" and statuses["Raises"] == "UNKNOWN"
    wk._close_checker()


def test_output_raising_is_a_complete_error(sch, emails):
    class BadOutput(luigi.Task):
        def output(self):
            raise OSError("no output for you")

    wk = make_worker(sch)
    assert wk.add(BadOutput()) is False
    assert wk._add_task_history == [(BadOutput(), "UNKNOWN", False)]
    assert "no output for you" in emails[0][1]
    assert wk.run() is True  # nothing runnable; the task stays unscheduled, the worker returns
