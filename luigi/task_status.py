"""Task statuses as they travel on the scheduler wire protocol; each constant equals its own name."""

PENDING = "PENDING"
FAILED = "FAILED"
DONE = "DONE"
RUNNING = "RUNNING"
BATCH_RUNNING = "BATCH_RUNNING"
SUSPENDED = "SUSPENDED"  # no longer produced; kept so old clients' messages still parse
UNKNOWN = "UNKNOWN"
DISABLED = "DISABLED"
