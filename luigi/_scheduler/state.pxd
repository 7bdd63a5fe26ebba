# C layout of SimpleTaskState in the compiled build (dev/build_accel.py); plain Python ignores this
# file. The per-report path (set_status -> touch_task -> index refresh) then runs as C calls with
# direct field reads; every other attribute lives in the instance __dict__ as in plain Python.
from luigi._scheduler.index cimport StateIndex
from luigi._scheduler.records cimport TaskRecord


cdef class SimpleTaskState:
    cdef dict __dict__
    cdef public StateIndex _index
    cdef public object _tasks, _status_tasks, _deferred, _clock
    cdef public set _dirty_tasks, _dirty_workers

    cpdef mark_task(self, task_id)
    cpdef mark_worker(self, worker_id)
    cpdef touch_task(self, TaskRecord task)
    cpdef defer_refresh(self, TaskRecord task)
    cpdef end_deferred_refresh(self, TaskRecord task, deps_changed=*)
    cpdef set_status(self, TaskRecord task, new_status, config=*, now=*)
