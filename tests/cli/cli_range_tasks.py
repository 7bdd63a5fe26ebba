"""A dated task for the range command-line test (loaded with ``--module cli_range_tasks``)."""

import luigi


class CliDaily(luigi.Task):
    date = luigi.DateParameter()

    def output(self):
        return luigi.LocalTarget(self.date.strftime("cli-daily/%Y-%m-%d"))

    def run(self):
        with self.output().open("w") as out:
            out.write("x")
