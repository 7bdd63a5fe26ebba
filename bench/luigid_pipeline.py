"""A whole pipeline through luigid with 4 worker processes: ours vs Luigi 3.8.1, wall time.

The pipeline is ``Root`` <- ``size / 1000`` ``Group`` tasks <- 1,000 ``Leaf`` tasks each (every task
writes an empty file). Four worker processes each run ``luigi.build([Root(...)])`` against the same
luigid at the same time, as four machines sharing one pipeline would; the wall time is from their
start until the last one exits. Ours runs our luigid and our workers, Luigi runs its own luigid and
workers. Luigi is skipped above ``--max-real`` tasks (its ``get_work`` scans every task, so large
runs take too long: about 8 minutes at 10,000) and the skip is printed. Prints numbers only; asserts nothing.

    .venv/bin/python bench/luigid_pipeline.py                  # 2,000, 10,000 and 100,000 leaves
    .venv/bin/python bench/luigid_pipeline.py --sizes 2000 --max-real 2000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "server"))

from luigid_helpers import Luigid, RealLuigid, real_luigi_python  # noqa: E402

WORKERS = 4
GROUP = 1000

PIPELINE = '''
import os
import luigi

OUT = os.environ["BENCH_OUT"]


class Leaf(luigi.Task):
    i = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget(os.path.join(OUT, f"leaf-{self.i}"))

    def run(self):
        open(self.output().path, "w").close()


class Group(luigi.Task):
    g = luigi.IntParameter()

    def requires(self):
        return [Leaf(i=self.g * GROUP_SIZE + j) for j in range(GROUP_SIZE)]

    def output(self):
        return luigi.LocalTarget(os.path.join(OUT, f"group-{self.g}"))

    def run(self):
        open(self.output().path, "w").close()


class Root(luigi.Task):
    groups = luigi.IntParameter()

    def requires(self):
        return [Group(g=g) for g in range(self.groups)]

    def output(self):
        return luigi.LocalTarget(os.path.join(OUT, "root"))

    def run(self):
        open(self.output().path, "w").close()
'''.replace("GROUP_SIZE", str(GROUP))

WORKER = "import luigi, pipeline, sys; sys.exit(0 if luigi.build([pipeline.Root(groups=int(sys.argv[1]))]) else 1)"


def run_pipeline(python: str, url: str, workdir: Path, size: int, pythonpath: str) -> float:
    """Wall seconds for WORKERS processes building the pipeline of ``size`` leaves against ``url``."""
    out = workdir / f"out-{Path(python).parent.parent.name}-{size}"
    out.mkdir()
    cfg = workdir / "worker.cfg"
    # short, jitter-free polling so that the wall time reflects luigid rather than idle sleeps
    cfg.write_text(f"[core]\ndefault_scheduler_url = {url}\nlog_level = WARNING\n"
                   "[worker]\nwait_interval = 0.1\nwait_jitter = 0.0\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=pythonpath, LUIGI_CONFIG_PATH=str(cfg), BENCH_OUT=str(out))
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen([python, "-c", WORKER, str(size // GROUP)], cwd=workdir, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(WORKERS)
    ]
    codes = [p.wait() for p in procs]
    wall = time.perf_counter() - t0
    if not (out / "root").exists():
        raise RuntimeError(f"pipeline did not finish (worker exit codes {codes})")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000, 100000])
    parser.add_argument("--max-real", type=int, default=10000, help="largest size run under Luigi 3.8.1")
    args = parser.parse_args()
    ours_python = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv").exists() else sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "pipeline.py").write_text(PIPELINE)
        for size in args.sizes:
            size = max(GROUP, size - size % GROUP)
            ours = Luigid(workdir, "--state-path", str(workdir / f"ours-{size}.db")).start()
            try:
                wall = run_pipeline(ours_python, ours.url, workdir, size, f"{REPO}{os.pathsep}{workdir}")
            finally:
                ours.terminate()
            print(f"ours   {size:>7} leaves, {WORKERS} workers | {wall:8.1f} s", flush=True)
            if size > args.max_real:
                print(f"luigi  {size:>7} leaves, {WORKERS} workers | skipped (above --max-real {args.max_real})",
                      flush=True)
                continue
            real = RealLuigid(workdir)
            try:
                wall = run_pipeline(str(real_luigi_python()), real.url, workdir, size, str(workdir))
            finally:
                real.stop()
            print(f"luigi  {size:>7} leaves, {WORKERS} workers | {wall:8.1f} s", flush=True)


if __name__ == "__main__":
    main()
