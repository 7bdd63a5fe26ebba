"""Task events: registration per class, dispatch to subclasses, order and error handling."""

from __future__ import annotations

import logging

import pytest

import luigi


class EvA(luigi.Task):
    pass


class EvB(EvA):
    pass


def test_handlers_fire_for_class_and_subclasses_with_given_args():
    calls = []

    @EvA.event_handler("ev")
    def on_a(*args, **kwargs):
        calls.append(("a", args, kwargs))

    @EvB.event_handler("ev")
    def on_b(*args):
        calls.append(("b", args))

    assert EvB().trigger_event("ev", 1) is None
    EvA().trigger_event("ev", 2)
    EvA().trigger_event("other", 3)
    assert calls == [("a", (1,), {}), ("b", (1,)), ("a", (2,), {})]
    assert luigi.Task._event_callbacks[EvA]["ev"] == {on_a}


def test_event_handler_returns_the_callback_and_standard_events_work():
    seen = []
    handler = EvA.event_handler(luigi.Event.SUCCESS)(seen.append)
    assert handler == seen.append
    task = EvA()
    task.trigger_event(luigi.Event.SUCCESS, task)
    assert seen == [task]


def test_handlers_of_one_class_run_in_registration_order():
    order = []
    handlers = [lambda i=i: order.append(i) for i in range(30)]
    for handler in handlers:
        EvA.event_handler("ordered")(handler)
    EvA().trigger_event("ordered")
    assert order == list(range(30))


def test_remove_event_handler():
    calls = []

    def handler():
        calls.append(1)

    EvA.event_handler("rm")(handler)
    EvA.remove_event_handler("rm", handler)
    EvA().trigger_event("rm")
    assert calls == []
    with pytest.raises(KeyError):
        EvA.remove_event_handler("rm", handler)
    with pytest.raises(KeyError):
        EvA.remove_event_handler("never-registered", handler)


def test_errors_in_handlers_are_logged_and_others_still_run(caplog):
    calls = []

    @EvA.event_handler("bad")
    def broken():
        raise ValueError("x")

    @EvA.event_handler("bad")
    def fine():
        calls.append("fine")

    with caplog.at_level(logging.ERROR, logger="luigi-interface"):
        EvA().trigger_event("bad")
    assert calls == ["fine"]
    assert [r.getMessage() for r in caplog.records] == ["Error in event callback for 'bad'"]
    assert caplog.records[0].exc_info[0] is ValueError


@pytest.mark.parametrize("exception", [KeyboardInterrupt, SystemExit])
def test_interrupts_in_handlers_propagate(exception):
    @EvA.event_handler("interrupt")
    def interrupt():
        raise exception()

    with pytest.raises(exception):
        EvA().trigger_event("interrupt")


def test_handler_registering_another_handler_during_dispatch():
    calls = []

    def late():
        calls.append("late")

    @EvA.event_handler("grow")
    def grow():
        calls.append("grow")
        EvB.event_handler("grow")(late)

    EvB().trigger_event("grow")
    assert calls == ["grow"]  # handlers added during dispatch wait for the next event
    EvB().trigger_event("grow")
    assert calls[1:] == ["grow", "late"]


def test_callbacks_dict_is_shared_by_all_task_classes():
    assert EvA._event_callbacks is luigi.Task._event_callbacks is luigi.WrapperTask._event_callbacks


def test_dispatch_sees_classes_registered_or_removed_after_earlier_events():
    calls = []

    class Fresh(luigi.Task):
        pass

    class FreshChild(Fresh):
        pass

    child = FreshChild()
    child.trigger_event("late")  # nothing registered yet
    Fresh.event_handler("late")(lambda: calls.append("base"))
    child.trigger_event("late")
    FreshChild.event_handler("late")(lambda: calls.append("child"))
    child.trigger_event("late")
    assert calls == ["base", "base", "child"]

    saved = dict(luigi.Task._event_callbacks)
    luigi.Task._event_callbacks.clear()
    child.trigger_event("late")
    assert calls == ["base", "base", "child"]
    luigi.Task._event_callbacks.update(saved)
    child.trigger_event("late")
    assert calls[3:] == ["base", "child"]


def test_replaced_callback_table_is_used(monkeypatch):
    calls = []
    monkeypatch.setattr(luigi.Task, "_event_callbacks", {EvA: {"plain": {lambda: calls.append("plain")}}})
    EvB().trigger_event("plain")
    assert calls == ["plain"]
