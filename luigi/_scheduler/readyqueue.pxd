# C layout of ReadyQueue in the compiled build (dev/build_accel.py); plain Python ignores this file.

cdef class ReadyQueue:
    cdef public object _run
    cdef public list _heap

    cpdef push(self, tuple entry)
    cpdef peek(self, valid)
