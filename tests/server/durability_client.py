"""A scripted worker for the durability test: adds its share of tasks, then runs them to the end.

Usage: durability_client.py URL WORKER_INDEX N_WORKERS N_TASKS FAIL_ONCE(comma ids) FAIL_TWICE(comma ids)
Prints "done <task_id>" after the scheduler acknowledged a DONE report, and "finished" at the end.
Tasks in FAIL_ONCE are reported FAILED once, those in FAIL_TWICE twice in a row (so a scheduler with
retry_count = 2 disables them); "failed <task_id>" is printed after that. Talks to luigid only through
RemoteScheduler, so a killed and restarted luigid is reached again through its retries."""

from __future__ import annotations

import sys

from luigi.rpc import RemoteScheduler


def main() -> None:
    url, index, n_workers, n_tasks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    fail_once = set(filter(None, sys.argv[5].split(",")))
    fail_twice = set(filter(None, sys.argv[6].split(",")))
    worker = f"durability-worker-{index}"
    sch = RemoteScheduler(url)
    sch.add_worker(worker, {"workers": 1, "host": "localhost"})
    mine = [f"T{i}" for i in range(n_tasks) if i % n_workers == index]
    for task_id in mine:
        sch.add_task(worker=worker, task_id=task_id, family="T", status="PENDING", params={"i": task_id[1:]})
    print("added", flush=True)
    failed_once = 0  # FAILED tasks still count as pending for their worker (they will be retried)
    while True:
        reply = sch.get_work(worker=worker, host="localhost", current_tasks=[])
        task_id = reply["task_id"]
        if task_id is None:
            if reply["n_pending_tasks"] <= failed_once:
                break
            sch.ping(worker=worker)
            continue
        if task_id in fail_once or task_id in fail_twice:
            for _ in range(2 if task_id in fail_twice else 1):
                sch.add_task(worker=worker, task_id=task_id, status="FAILED", expl='"boom"')
            failed_once += task_id in fail_once
            print("failed", task_id, flush=True)
            continue
        sch.add_task(worker=worker, task_id=task_id, status="DONE")
        print("done", task_id, flush=True)
    print("finished", flush=True)


if __name__ == "__main__":
    main()
