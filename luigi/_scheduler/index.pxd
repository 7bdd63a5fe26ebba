# C layout of the index records in the compiled build (dev/build_accel.py); plain Python ignores
# this file. Typed fields and locals turn the attribute lookups of ``refresh`` and its helpers
# (the scheduler's most frequent operation) into plain field reads. Counters stay Python ints.
cimport cython

from luigi._scheduler.readyqueue cimport ReadyQueue
from luigi._scheduler.records cimport TaskRecord


cdef class _Snap:
    cdef public object status, seq, deps, gkey, workers, stake, sig, family, worker_running, batch_id
    cdef public bint ready, has_res


cdef class WorkerSlot:
    cdef public dict offered, offered_running, running, batch_running
    cdef public object counts, unique, last, res_pending
    cdef public ReadyQueue ready
    cdef public set stakes


cdef class StateIndex:
    cdef public object tasks, status_tasks, batches, sig_heaps, n_ready, version, _seq, _disabled_cache
    cdef public dict snaps, rdeps, unready, workers, _validators, family_heaps
    cdef public set orphans

    cpdef WorkerSlot slot(self, worker_id)
    cpdef bint _bump_unready(self, tid, delta)

    @cython.locals(snap=_Snap)
    cpdef refresh(self, TaskRecord task, deps_changed=*)

    @cython.locals(snap=_Snap, task=TaskRecord)
    cpdef add_placeholders(self, tasks)

    cpdef _set_deps(self, tid, _Snap snap, deps)
    cpdef _set_stake(self, tid, _Snap snap, stake)

    @cython.locals(slot=WorkerSlot)
    cpdef _contribute(self, tid, task, tuple workers, tuple changes, bint membership)

    cpdef _push(self, tid, key, old_key, bint was_ready, old_family, old_sig, old_workers, _Snap snap)
    cpdef _running_contribution(self, tid, task, _Snap snap, bint remove)
