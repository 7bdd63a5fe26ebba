# Compiled build only (dev/build_accel.py); plain Python ignores this file: the log-level gate of
# the per-task log lines is a C call reading a C-typed dict.
cdef object _LOGGER
cdef dict _LOGGER_CACHE

cpdef bint _logs(level)
