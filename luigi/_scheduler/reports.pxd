# Types of the record-update steps of add_task in the compiled build (dev/build_accel.py); plain
# Python ignores this file. Typed records and state: direct field reads and C calls.
cimport cython

from luigi._scheduler.records cimport TaskRecord
from luigi._scheduler.state cimport SimpleTaskState


cpdef fill_in_details(TaskRecord task, family, module, params, param_visibilities)
cpdef take_fields(SimpleTaskState state, TaskRecord task, worker_id, status, batch_id, accepts_messages,
                  tracking_url, batchable, expl, now)
cpdef copy_to_batch(SimpleTaskState state, TaskRecord task, attribute, value)
cpdef bint adopt_deps(TaskRecord task, deps, new_deps)
cpdef start_running(SimpleTaskState state, TaskRecord task, worker_id, config, now)

@cython.locals(current=TaskRecord, dep=TaskRecord)
cpdef raise_priority(SimpleTaskState state, TaskRecord task, prio, deps_settled=*)
