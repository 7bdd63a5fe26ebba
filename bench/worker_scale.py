"""Worker scaling benchmark: ours vs real Luigi 3.8.1, side by side.

Each scenario runs ``luigi.build`` in a fresh interpreter and reports wall time and peak RSS of
that interpreter. Real Luigi runs only the small sizes (it is quadratic in places). Prints numbers,
asserts nothing.

    .venv/bin/python bench/worker_scale.py            # everything except 1M leaves
    .venv/bin/python bench/worker_scale.py --million  # also fan-in of 1,000,000 leaves (ours only)
    .venv/bin/python bench/worker_scale.py --only fanin-4000
    .venv/bin/python bench/worker_scale.py --pure     # ours in plain Python even when compiled

"ours" uses the compiled hot modules when ``dev/build_accel.py`` built them (the header says which).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.path.join(REPO, ".venv", "bin", "python")
if not os.path.exists(OURS):
    OURS = sys.executable

# Runs inside the measured interpreter. argv: scenario, size, workdir
SCENARIO = r"""
import json, resource, sys, time
import luigi

scenario, size, workdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
DONE = set()


class Leaf(luigi.Task):
    i = luigi.IntParameter()

    def complete(self):
        return self.i in DONE

    def run(self):
        DONE.add(self.i)


class FanIn(luigi.Task):
    n = luigi.IntParameter()

    def requires(self):
        return [Leaf(i=i) for i in range(self.n)]

    def complete(self):
        return -1 in DONE

    def run(self):
        DONE.add(-1)


class Link(luigi.Task):
    i = luigi.IntParameter()

    def requires(self):
        return [Link(i=self.i - 1)] if self.i > 0 else []

    def complete(self):
        return self.i in DONE

    def run(self):
        DONE.add(self.i)


class Node(luigi.Task):
    layer = luigi.IntParameter()
    pos = luigi.IntParameter()
    width = luigi.IntParameter()

    def requires(self):
        if self.layer == 0:
            return []
        w = self.width
        return [Node(layer=self.layer - 1, pos=self.pos, width=w), Node(layer=self.layer - 1, pos=(self.pos + 1) % w, width=w)]

    def complete(self):
        return (self.layer, self.pos) in DONE

    def run(self):
        DONE.add((self.layer, self.pos))


class Lattice(luigi.WrapperTask):
    width = luigi.IntParameter()
    depth = luigi.IntParameter()

    def requires(self):
        return [Node(layer=self.depth - 1, pos=p, width=self.width) for p in range(self.width)]


class FileLeaf(luigi.Task):
    i = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget("%s/leaf-%d.txt" % (workdir, self.i))

    def run(self):
        with self.output().open("w") as fh:
            fh.write("x")


class FileRoot(luigi.WrapperTask):
    n = luigi.IntParameter()

    def requires(self):
        return [FileLeaf(i=i) for i in range(self.n)]


if scenario == "fanin":
    roots, workers, ntasks = [FanIn(n=size)], 1, size + 1
elif scenario == "chain":
    roots, workers, ntasks = [Link(i=size - 1)], 1, size
elif scenario == "lattice":
    roots, workers, ntasks = [Lattice(width=size, depth=size)], 1, size * size + 1
elif scenario == "files2":
    roots, workers, ntasks = [FileRoot(n=size)], 2, size + 1
else:
    raise SystemExit("unknown scenario " + scenario)

t0 = time.perf_counter()
ok = luigi.build(roots, local_scheduler=True, workers=workers, log_level="WARNING", no_lock=True)
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
try:  # ours: how many modules came from the compiled build (real Luigi has no such module)
    from luigi._compiled import compiled_modules
    compiled = len(compiled_modules())
except ImportError:
    compiled = None
print("RESULT " + json.dumps({"ok": bool(ok), "wall": wall, "rss_mb": rss, "tasks": ntasks, "compiled": compiled}))
"""


def realluigi_python() -> str | None:
    """The interpreter of a real Luigi 3.8.1 install (via ``bench/_realluigi.py`` when present)."""
    try:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import _realluigi  # type: ignore[import-not-found]

        return str(_realluigi.real_luigi_python())
    except Exception:  # helper missing or venv creation impossible: use the well-known location
        candidate = "/opt/realluigi/bin/python"
        return candidate if os.path.exists(candidate) else None


def measure(python: str, scenario: str, size: int, timeout: float, pure: bool = False) -> dict | None:
    env = dict(os.environ)
    env.pop("LUIGI_PURE_PYTHON", None)
    if python == OURS:
        env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
        if pure:
            env["LUIGI_PURE_PYTHON"] = "1"
    else:
        env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory() as workdir:
        try:
            proc = subprocess.run(
                [python, "-c", SCENARIO, scenario, str(size), workdir],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                cwd=workdir,
            )
        except subprocess.TimeoutExpired:
            return {"timeout": timeout}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}


def fmt(result: dict | None) -> str:
    if result is None:
        return "-"
    if "timeout" in result:
        return f"timeout>{result['timeout']}s"
    if "error" in result:
        return "error: " + result["error"][:60]
    rate = result["tasks"] / result["wall"] if result["wall"] else float("inf")
    return "{:8.2f}s {:7.0f} MB {:9.0f} t/s{}".format(
        result["wall"], result["rss_mb"], rate, "" if result["ok"] else " NOT OK"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--million", action="store_true", help="also run the fan-in of 1,000,000 leaves")
    parser.add_argument("--only", help="run a single case, e.g. fanin-4000")
    parser.add_argument("--no-real", action="store_true", help="skip real Luigi")
    parser.add_argument("--pure", action="store_true", help="run ours in plain Python (no compiled modules)")
    args = parser.parse_args()

    # (name, scenario, size, compare with real Luigi?)
    cases = [
        ("fanin-1000", "fanin", 1000, True),
        ("fanin-4000", "fanin", 4000, True),
        ("fanin-100000", "fanin", 100_000, False),
        ("chain-2000", "chain", 2000, True),
        ("chain-10000", "chain", 10_000, False),
        ("lattice-40x40", "lattice", 40, True),
        ("files-w2-500", "files2", 500, True),
        ("files-w2-2000", "files2", 2000, False),
    ]
    if args.million:
        cases.append(("fanin-1000000", "fanin", 1_000_000, False))
    if args.only:
        cases = [c for c in cases if c[0] == args.only]

    real = None if args.no_real else realluigi_python()
    print(f"{'case':<27} {'ours (wall, peak RSS, tasks/s)':<40} {'Luigi 3.8.1':<40} speed-up")
    for name, scenario, size, compare in cases:
        ours = measure(OURS, scenario, size, timeout=600, pure=args.pure)
        if ours and ours.get("compiled") is not None:
            name += " (compiled)" if ours["compiled"] else " (plain)"
        theirs = measure(real, scenario, size, timeout=600) if (real and compare) else None
        ratio = "-"
        if ours and theirs and "wall" in ours and "wall" in theirs and ours["wall"] > 0:
            ratio = f"{theirs['wall'] / ours['wall']:.1f}x"
        print(f"{name:<27} {fmt(ours):<40} {fmt(theirs):<40} {ratio}", flush=True)


if __name__ == "__main__":
    main()
