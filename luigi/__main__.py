"""``python -m luigi --module m Task ...`` behaves like the ``luigi`` command."""

from luigi.cmdline import luigi_run

if __name__ == "__main__":
    luigi_run()
