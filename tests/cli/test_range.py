"""Range tasks with real dated tasks writing LocalTargets."""

from __future__ import annotations

import datetime
import glob
import os
import pathlib

import hypothesis
import pytest
from cli_support import run_luigi

import luigi
from luigi.parameter import ParameterException
from luigi.tools import range as luigi_range


def _epoch(*args) -> int:
    return int(datetime.datetime(*args, tzinfo=datetime.timezone.utc).timestamp())


class Daily(luigi.Task):
    date = luigi.DateParameter()

    def output(self):
        return luigi.LocalTarget(self.date.strftime("daily/%Y-%m-%d.txt"))

    def run(self):
        with self.output().open("w") as out:
            out.write(str(self.date))


class BulkHourly(luigi.task.MixinNaiveBulkComplete, luigi.Task):
    hour = luigi.DateHourParameter()
    tag = luigi.Parameter(default="t")

    def output(self):
        return luigi.LocalTarget(self.hour.strftime(f"hourly-{self.tag}/%Y%m%d%H.txt"))

    def run(self):
        with self.output().open("w") as out:
            out.write("x")


def _touch_daily(*days):
    for day in days:
        Daily(date=day).output().open("w").close()


def test_range_daily_base_fills_gaps_oldest_first():
    _touch_daily(datetime.date(2015, 3, 1), datetime.date(2015, 3, 3))
    task = luigi_range.RangeDailyBase(of=Daily, start=datetime.date(2015, 3, 1), stop=datetime.date(2015, 3, 6), now=_epoch(2015, 4, 1))
    assert task.requires() == [Daily(date=datetime.date(2015, 3, d)) for d in (2, 4, 5)]
    assert luigi.build([task], local_scheduler=True, no_progress=True)
    assert sorted(p.name for p in pathlib.Path("daily").iterdir()) == [f"2015-03-0{d}.txt" for d in range(1, 6)]


def test_reverse_and_task_limit_pick_the_newest_first():
    task = luigi_range.RangeDailyBase(
        of=Daily, start=datetime.date(2015, 3, 1), stop=datetime.date(2015, 3, 10), reverse=True, task_limit=2, now=_epoch(2015, 4, 1)
    )
    assert task.requires() == [Daily(date=datetime.date(2015, 3, 9)), Daily(date=datetime.date(2015, 3, 8))]


def test_days_back_clamps_the_window():
    task = luigi_range.RangeDailyBase(of=Daily, start=datetime.date(2015, 1, 1), days_back=3, now=_epoch(2015, 4, 1, 10, 30))
    # moving start is 2015-03-29 10:30, so that day's midnight is outside; today's midnight is inside
    assert task.requires() == [Daily(date=datetime.date(2015, 3, d)) for d in (30, 31)] + [Daily(date=datetime.date(2015, 4, 1))]


def test_validation_messages():
    with pytest.raises(ParameterException, match="At least one of start and stop needs to be specified"):
        luigi_range.RangeDailyBase(of=Daily).requires()
    with pytest.raises(ParameterException, match="Either start needs to be specified or reverse needs to be True"):
        luigi_range.RangeDailyBase(of=Daily, stop=datetime.date(2015, 1, 1)).requires()
    with pytest.raises(ParameterException, match="Can't have start > stop"):
        luigi_range.RangeDailyBase(of=Daily, start=datetime.date(2015, 2, 1), stop=datetime.date(2015, 1, 1)).requires()


def test_range_hourly_bulk_with_of_params_and_events():
    for hour in (0, 1, 5):
        BulkHourly(hour=datetime.datetime(2015, 3, 1, hour), tag="p").output().open("w").close()
    events = []
    for event in (luigi_range.RangeEvent.DELAY, luigi_range.RangeEvent.COMPLETE_COUNT, luigi_range.RangeEvent.COMPLETE_FRACTION):
        luigi_range.RangeHourly.event_handler(event)(lambda family, value, event=event: events.append((event, family, value)))
    task = luigi_range.RangeHourly(
        of=BulkHourly, of_params={"tag": "p"}, start=datetime.datetime(2015, 3, 1, 0), task_limit=3, now=_epoch(2015, 3, 1, 10, 30)
    )
    assert task.requires() == [BulkHourly(hour=datetime.datetime(2015, 3, 1, h), tag="p") for h in (2, 3, 4)]
    assert events == [
        ("event.tools.range.delay", "BulkHourly", 9),
        ("event.tools.range.complete.count", "BulkHourly", 3),
        ("event.tools.range.complete.fraction", "BulkHourly", 3 / 11),
    ]


class Monthly(luigi.Task):
    month = luigi.MonthParameter()

    def output(self):
        return luigi.LocalTarget(self.month.strftime("monthly/%Y-%m.txt"))


def test_range_monthly_excludes_the_current_month():
    task = luigi_range.RangeMonthly(of=Monthly, start=datetime.date(2015, 1, 1), now=_epoch(2015, 6, 15))
    assert [t.month for t in task.requires()] == [datetime.date(2015, m, 1) for m in range(1, 6)]


def test_range_by_minutes_grid_and_interval_validation():
    base = luigi_range.RangeByMinutesBase(of=Daily, start=datetime.datetime(2015, 3, 1, 20, 13), minutes_interval=5)
    grid = base.finite_datetimes(datetime.datetime(2015, 3, 1, 20, 13), datetime.datetime(2015, 3, 1, 20, 40))
    assert [d.minute for d in grid] == [15, 20, 25, 30, 35]
    with pytest.raises(ParameterException, match="minutes-interval does not evenly divide 60"):
        luigi_range.RangeByMinutesBase(of=Daily, start=datetime.datetime(2015, 3, 1), minutes_interval=7).finite_datetimes(
            datetime.datetime(2015, 3, 1), datetime.datetime(2015, 3, 2)
        )


def test_constrain_glob_examples():
    paths = [f"/data/2015/01/{d:02d}/x" for d in range(1, 32)]
    assert luigi_range._constrain_glob("/data/[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]", paths) == [
        "/data/2015/01/0[1-9]", "/data/2015/01/1[0-9]", "/data/2015/01/2[0-9]", "/data/2015/01/3[0-1]",
    ]
    assert luigi_range._constrain_glob("/data/[0-9][0-9]", ["/data/13", "/data/24", "/data/19", "/data/31", "/data/17", "/data/11"], 3) == [
        "/data/1[1379]", "/data/2[4]", "/data/3[1]",
    ]


def test_range_daily_from_the_command_line(tmp_path):
    (tmp_path / "luigi.cfg").write_text("[core]\nautoload_range = true\n")
    result = run_luigi(
        "--module", "cli_range_tasks", "RangeDailyBase", "--of", "CliDaily", "--start", "2015-03-01", "--stop", "2015-03-04",
        "--now", str(_epoch(2015, 4, 1)), "--local-scheduler", "--no-lock", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "cli-daily").iterdir()) == ["2015-03-01", "2015-03-02", "2015-03-03"]
    assert "- 3 CliDaily(date=2015-03-01,2015-03-02,2015-03-03)" in result.stderr


class GlobFileSystem(luigi.local_target.LocalFileSystem):
    """The local filesystem with HDFS-style glob patterns in ``exists``/``listdir``; records the calls."""

    def __init__(self):
        self.calls = []

    def exists(self, path):
        self.calls.append(("exists", path))
        return bool(glob.glob(path))

    def listdir(self, path):
        self.calls.append(("listdir", path))
        return sorted(name for directory in glob.glob(path) for name in glob.glob(os.path.join(directory, "*")))


GLOB_FS = GlobFileSystem()


class GlobTarget(luigi.LocalTarget):
    fs = GLOB_FS


class DailyOnGlobFs(luigi.Task):
    date = luigi.DateParameter()

    def output(self):
        return GlobTarget(self.date.strftime("data/%Y/%m/%d/out.txt"))


def test_range_daily_infers_completeness_from_one_listing():
    for day in (2, 5, 9):
        path = pathlib.Path(DailyOnGlobFs(date=datetime.date(2015, 3, day)).output().path)
        path.parent.mkdir(parents=True)
        path.write_text("x")
    GLOB_FS.calls.clear()
    task = luigi_range.RangeDaily(of=DailyOnGlobFs, start=datetime.date(2015, 3, 1), stop=datetime.date(2015, 3, 10), now=_epoch(2015, 4, 1))
    assert [t.date.day for t in task.requires()] == [1, 3, 4, 6, 7, 8]
    assert GLOB_FS.calls == [("exists", "data/2015/03/0[1-9]"), ("listdir", "data/2015/03/0[1-9]")]


class DivisibleByThree(luigi.Task):
    date = luigi.DateParameter()

    def complete(self):
        return self.date.day % 3 == 0


def _capture_range_events(cls):
    events = []
    for event in (luigi_range.RangeEvent.DELAY, luigi_range.RangeEvent.COMPLETE_COUNT, luigi_range.RangeEvent.COMPLETE_FRACTION):
        cls.event_handler(event)(lambda family, value, event=event: events.append((event.rsplit(".", 1)[1], value)))
    return events


def test_reverse_with_zero_task_limit_requires_everything_newest_first():
    events = _capture_range_events(luigi_range.RangeDailyBase)
    task = luigi_range.RangeDailyBase(
        of=DivisibleByThree, start=datetime.date(2015, 1, 1), days_back=10, reverse=True, task_limit=0, now=_epoch(2015, 4, 1, 10, 30)
    )
    assert [t.date for t in task.requires()] == [
        datetime.date(2015, 4, 1), datetime.date(2015, 3, 31), datetime.date(2015, 3, 29), datetime.date(2015, 3, 28),
        datetime.date(2015, 3, 26), datetime.date(2015, 3, 25), datetime.date(2015, 3, 23),
    ]
    assert events == [("delay", 10), ("count", 84), ("fraction", 84 / 91)]


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(
    start=hypothesis.strategies.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2001, 1, 1)),
    length=hypothesis.strategies.timedeltas(min_value=datetime.timedelta(0), max_value=datetime.timedelta(days=40)),
    interval=hypothesis.strategies.sampled_from([1, 2, 5, 15, 30]),
    kind=hypothesis.strategies.sampled_from(["daily", "hourly", "minutes"]),
)
def test_metric_grid_arithmetic_matches_enumeration(start, length, interval, kind):
    if kind == "daily":
        task = luigi_range.RangeDailyBase(of=Daily, start=datetime.date(2000, 1, 1))
    elif kind == "hourly":
        task = luigi_range.RangeHourlyBase(of=BulkHourly, start=datetime.datetime(2000, 1, 1))
    else:
        length = length / 40
        task = luigi_range.RangeByMinutesBase(of=BulkHourly, start=datetime.datetime(2000, 1, 1), minutes_interval=interval)
    stop = start + length
    grid = task.finite_datetimes(start, stop)
    point = grid[len(grid) // 2] if grid else None
    expected_position = grid.index(point) if grid else 0
    assert task._grid_count_and_position(start, stop, point) == (len(grid), expected_position)
