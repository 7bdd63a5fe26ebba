"""A 1,000-task pipeline runnable by both Luigi 3.8.1 and this implementation (interop tests)."""

import os

import luigi


class Leaf(luigi.Task):
    i = luigi.IntParameter()
    root = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(os.path.join(self.root, f"leaf-{self.i}.txt"))

    def run(self):
        with self.output().open("w") as f:
            f.write(str(self.i))


class Top(luigi.Task):
    root = luigi.Parameter()
    n = luigi.IntParameter(default=999)

    def requires(self):
        return [Leaf(i=i, root=self.root) for i in range(self.n)]

    def output(self):
        return luigi.LocalTarget(os.path.join(self.root, "top.txt"))

    def run(self):
        total = sum(int(t.open().read()) for t in self.input())
        with self.output().open("w") as f:
            f.write(str(total))
