"""``luigi-grep``: search a running central scheduler's task graph by id prefix or status."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from typing import Any, Iterator
from urllib.request import urlopen

_TIMEOUT_SECONDS = 60


class LuigiGrep:
    """Queries ``/api/graph`` of the scheduler at ``host:port``."""

    def __init__(self, host: str, port: int | str) -> None:
        self._host = host
        self._port = port

    @property
    def graph_url(self) -> str:
        return f"http://{self._host}:{self._port}/api/graph"

    def _fetch_json(self) -> Any:
        print("Fetching from url: " + self.graph_url)
        with urlopen(self.graph_url, timeout=_TIMEOUT_SECONDS) as response:
            return json.loads(response.read().decode("utf-8"))

    def _build_results(self, jobs: dict, job: str) -> dict:
        deps_by_status: defaultdict = defaultdict(list)
        for dep in jobs[job]["deps"]:
            status = jobs[dep]["status"] if dep in jobs else "UNKNOWN"
            deps_by_status[status].append(dep)
        return {"name": job, "status": jobs[job]["status"], "deps_by_status": deps_by_status}

    def prefix_search(self, job_name_prefix: str) -> Iterator[dict]:
        """Tasks whose id starts with ``job_name_prefix``."""
        jobs = self._fetch_json()["response"]
        for job in jobs:
            if job.startswith(job_name_prefix):
                yield self._build_results(jobs, job)

    def status_search(self, status: str) -> Iterator[dict]:
        """Tasks whose status equals ``status`` (case-insensitive)."""
        jobs = self._fetch_json()["response"]
        for job in jobs:
            if jobs[job]["status"].lower() == status.lower():
                yield self._build_results(jobs, job)


def main() -> None:
    parser = argparse.ArgumentParser("luigi-grep is used to search for workflows using the luigi scheduler's json api")
    parser.add_argument("--scheduler-host", default="localhost", help="hostname of the luigi scheduler")
    parser.add_argument("--scheduler-port", default="8082", help="port of the luigi scheduler")
    parser.add_argument("--prefix", help="prefix of a task query to search for", default=None)
    parser.add_argument("--status", help="search for jobs with the given status", default=None)
    args = parser.parse_args()
    grep = LuigiGrep(args.scheduler_host, args.scheduler_port)
    if args.prefix:
        results = grep.prefix_search(args.prefix)
    elif args.status:
        results = grep.status_search(args.status)
    else:
        return
    for job in results:
        print("{name}: {status}, Dependencies:".format(name=job["name"], status=job["status"]))
        for status, jobs in job["deps_by_status"].items():
            print(f"  status={status}")
            for dep in jobs:
                print(f"    {dep}")


if __name__ == "__main__":
    main()
