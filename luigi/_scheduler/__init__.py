"""Private building blocks of :mod:`luigi.scheduler`.

The public module keeps Luigi's names and RPC surface; the pieces here each do one job:
``clock`` (time source), ``constants`` (status and upstream names), ``records`` (Task/Worker
records, OrderedSet, RetryPolicy), ``index`` (incremental indexes that make get_work, prune and
count_pending independent of the total number of tasks), ``state`` (SimpleTaskState: the status
state machine plus persistence hooks), ``expiry`` (time-ordered queues used by pruning),
``readyqueue`` (per-worker queues of ready tasks), ``selection`` (the get_work algorithm),
``pruning`` and ``views`` (upstream status, serialisation, graphs).
"""
