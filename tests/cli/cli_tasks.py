"""Tasks used by the command-line tests (loaded with ``--module cli_tasks``).

All outputs are relative paths, so each test's working directory (its tmp_path) isolates them.
"""

import sys

import luigi


class Ok(luigi.Task):
    """Writes ``ok-<n>.txt``."""

    n = luigi.IntParameter(default=1)

    def output(self):
        return luigi.LocalTarget(f"ok-{self.n}.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write(f"ok {self.n}\n")


class FanIn(luigi.Task):
    """Requires ``Ok(n)`` for ``n < parts`` and writes their sum."""

    parts = luigi.IntParameter(default=3)

    def requires(self):
        return [Ok(n=n) for n in range(self.parts)]

    def output(self):
        return luigi.LocalTarget(f"fanin-{self.parts}.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("".join(t.open("r").read() for t in self.input()))


class Fails(luigi.Task):
    def run(self):
        raise ValueError("boom from Fails")

    def output(self):
        return luigi.LocalTarget("fails.txt")


class MissingInput(luigi.ExternalTask):
    def output(self):
        return luigi.LocalTarget("never-created.txt")


class NeedsMissing(luigi.Task):
    def requires(self):
        return MissingInput()

    def output(self):
        return luigi.LocalTarget("needs-missing.txt")

    def run(self):
        raise AssertionError("must not run")


class BrokenComplete(luigi.Task):
    def complete(self):
        raise RuntimeError("complete() is broken")


class NeedsResource(luigi.Task):
    """Asks for a resource the test configures with zero capacity, so it is never granted."""

    resources = {"cli_test_resource": 1}

    def output(self):
        return luigi.LocalTarget("needs-resource.txt")

    def run(self):
        raise AssertionError("must not run")


class Blocker(luigi.Task):
    """Prints a marker to stderr, then waits for one line on stdin (the test's release signal)."""

    name = luigi.Parameter(default="blocker")

    def output(self):
        return luigi.LocalTarget(f"{self.name}.txt")

    def run(self):
        print("BLOCKER STARTED", file=sys.stderr, flush=True)
        sys.stdin.readline()
        with self.output().open("w") as out:
            out.write("released\n")


class AfterBlocker(luigi.Task):
    """Depends on a Blocker and one Ok task: a two-level graph for progress tests."""

    def requires(self):
        return [Blocker(), Ok(n=7)]

    def output(self):
        return luigi.LocalTarget("after-blocker.txt")

    def run(self):
        with self.output().open("w") as out:
            out.write("done\n")
