# C layout of TaskRecord in the compiled build (dev/build_accel.py); plain Python ignores this file.
# Code that declares a variable as TaskRecord (the scheduler's indexes) reads its fields directly.

cdef class TaskRecord:
    cdef public object id, stakeholders, workers, deps, status, time, updated, retry, remove, worker_running
    cdef public object time_running, expl, priority, resources, family, module, param_visibilities, params
    cdef public object public_params, hidden_params, accepts_messages, retry_policy, first_failure_time
    cdef public object tracking_url, status_message, progress_percentage, scheduler_disable_time
    cdef public object runnable, batchable, batch_id, _failures, _message_responses, _deps_walked
