"""Word count: generate a few text files, count words in each, then merge the counts.

    python3 -m luigi --module examples.wordcount WordCount --local-scheduler
    python3 -m luigi --module examples.wordcount WordCount --parts 5 --workers 2 --local-scheduler

``MakeText(part)`` -> ``CountWords(part)`` for each part -> ``WordCount`` (fan-in). Outputs go under
``--out-dir`` (default ``wordcount-output`` in the current directory); a second run finds them
complete and does nothing.
"""

from __future__ import annotations

import collections
import os

import luigi

_VERSES = (
    "the quick brown fox jumps over the lazy dog",
    "a journey of a thousand miles begins with a single step",
    "to be or not to be that is the question",
    "all that glitters is not gold",
)


class MakeText(luigi.Task):
    """Writes part ``part`` of the corpus (deterministic text, so reruns are reproducible)."""

    part = luigi.IntParameter()
    out_dir = luigi.Parameter(default="wordcount-output")

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(os.path.join(self.out_dir, "text", f"part-{self.part:03d}.txt"))

    def run(self) -> None:
        with self.output().open("w") as out:
            for line_number in range(10 + self.part):
                out.write(_VERSES[(line_number + self.part) % len(_VERSES)] + "\n")


class CountWords(luigi.Task):
    """Counts the words of one part: ``word<TAB>count`` lines, most frequent first."""

    part = luigi.IntParameter()
    out_dir = luigi.Parameter(default="wordcount-output")

    def requires(self) -> MakeText:
        return MakeText(part=self.part, out_dir=self.out_dir)

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(os.path.join(self.out_dir, "counts", f"part-{self.part:03d}.tsv"))

    def run(self) -> None:
        counts: collections.Counter = collections.Counter()
        with self.input().open("r") as text:
            for line in text:
                counts.update(line.split())
        _write_counts(self.output(), counts)


class WordCount(luigi.Task):
    """Merges the per-part counts into ``total.tsv`` (the fan-in)."""

    parts = luigi.IntParameter(default=3, description="number of text parts to generate and count")
    out_dir = luigi.Parameter(default="wordcount-output", description="directory for all outputs")

    def requires(self) -> list[CountWords]:
        return [CountWords(part=part, out_dir=self.out_dir) for part in range(self.parts)]

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(os.path.join(self.out_dir, "total.tsv"))

    def run(self) -> None:
        totals: collections.Counter = collections.Counter()
        for target in self.input():
            with target.open("r") as counts:
                for line in counts:
                    word, count = line.rstrip("\n").split("\t")
                    totals[word] += int(count)
        _write_counts(self.output(), totals)


def _write_counts(target: luigi.LocalTarget, counts: collections.Counter) -> None:
    """Atomically write ``word<TAB>count`` lines (LocalTarget writes to a temp file, then renames)."""
    with target.open("w") as out:
        for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            out.write(f"{word}\t{count}\n")


if __name__ == "__main__":
    luigi.run(main_task_cls=WordCount, local_scheduler=True)
