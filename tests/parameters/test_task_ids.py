"""Serialized parameters as they reach task ids, repr and the scheduler, and the CLI end to end.

The expected ids and strings were produced by real Luigi 3.8.1 for the same task and values.
"""

from __future__ import annotations

import datetime
import enum
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import luigi
from luigi import date_interval as di
from luigi.parameter import ParameterVisibility


class Shade(enum.Enum):
    LIGHT = 1
    DARK = 2


class AllKinds(luigi.Task):
    task_namespace = "kinds"
    s = luigi.Parameter()
    i = luigi.IntParameter()
    f = luigi.FloatParameter()
    b = luigi.BoolParameter()
    d = luigi.DateParameter()
    m = luigi.MonthParameter()
    y = luigi.YearParameter()
    dh = luigi.DateHourParameter()
    dm = luigi.DateMinuteParameter()
    ds = luigi.DateSecondParameter()
    di_ = luigi.DateIntervalParameter()
    td = luigi.TimeDeltaParameter()
    e = luigi.EnumParameter(enum=Shade)
    el = luigi.EnumListParameter(enum=Shade)
    dct = luigi.DictParameter()
    lst = luigi.ListParameter()
    tup = luigi.TupleParameter()
    num = luigi.NumericalParameter(var_type=int, min_value=0, max_value=10)
    ch = luigi.ChoiceParameter(choices=["x", "y"])
    chl = luigi.ChoiceListParameter(choices=["x", "y"])
    p = luigi.PathParameter()
    oi = luigi.OptionalIntParameter()
    os_ = luigi.OptionalParameter()
    hidden = luigi.Parameter(default="h", visibility=ParameterVisibility.HIDDEN)
    private = luigi.Parameter(default="p", visibility=ParameterVisibility.PRIVATE)
    insig = luigi.Parameter(default="i", significant=False)


def make_all_kinds():
    return AllKinds(
        s="text",
        i=42,
        f=0.5,
        b=True,
        d=datetime.date(2013, 7, 10),
        m=datetime.date(2013, 7, 1),
        y=datetime.date(2013, 1, 1),
        dh=datetime.datetime(2013, 7, 10, 19),
        dm=datetime.datetime(2013, 7, 10, 19, 7),
        ds=datetime.datetime(2013, 7, 10, 19, 7, 38),
        di_=di.Week(2015, 35),
        td=datetime.timedelta(days=9, seconds=3661),
        e=Shade.DARK,
        el=(Shade.LIGHT, Shade.DARK),
        dct={"b": [1, {"c": 2}], "a": "\u00e9"},
        lst=[1, [2, 3]],
        tup=((1, 2), (3, 4)),
        num=7,
        ch="y",
        chl=("y", "x"),
        p=Path("a/b"),
    )


def test_task_id_and_repr_match_luigi():
    task = make_all_kinds()
    assert task.task_id == "kinds.AllKinds_True_y_y_x_bef6155499"
    assert repr(task) == (
        "kinds.AllKinds(s=text, i=42, f=0.5, b=True, d=2013-07-10, m=2013-07, y=2013, dh=2013-07-10T19, "
        "dm=2013-07-10T1907, ds=2013-07-10T190738, di_=2015-W35, td=1 w 2 d 1 h 1 m 1 s, e=DARK, el=LIGHT,DARK, "
        'dct={"b": [1, {"c": 2}], "a": "\\u00e9"}, lst=[1, [2, 3]], tup=[[1, 2], [3, 4]], num=7, ch=y, chl=y,x, '
        "p=a/b, oi=, os_=, hidden=h, private=p)"
    )


def test_params_sent_to_the_scheduler_match_luigi():
    task = make_all_kinds()
    assert task.to_str_params() == {
        "s": "text",
        "i": "42",
        "f": "0.5",
        "b": "True",
        "d": "2013-07-10",
        "m": "2013-07",
        "y": "2013",
        "dh": "2013-07-10T19",
        "dm": "2013-07-10T1907",
        "ds": "2013-07-10T190738",
        "di_": "2015-W35",
        "td": "1 w 2 d 1 h 1 m 1 s",
        "e": "DARK",
        "el": "LIGHT,DARK",
        "dct": '{"b": [1, {"c": 2}], "a": "\\u00e9"}',
        "lst": "[1, [2, 3]]",
        "tup": "[[1, 2], [3, 4]]",
        "num": "7",
        "ch": "y",
        "chl": "y,x",
        "p": "a/b",
        "oi": "",
        "os_": "",
        "hidden": "h",
        "insig": "i",
    }
    assert task._get_param_visibilities()["hidden"] == 1 and "private" not in task._get_param_visibilities()


def test_string_params_rebuild_the_same_task():
    task = make_all_kinds()
    rebuilt = AllKinds.from_str_params(task.to_str_params())
    assert rebuilt == task and rebuilt.task_id == task.task_id
    assert rebuilt.dct == task.dct and rebuilt.tup == task.tup and rebuilt.td == task.td


def test_command_line_run_resolves_flags_and_config(tmp_path):
    """A real ``python -m luigi`` run: local flag, qualified flag, config section and default."""
    (tmp_path / "cli_params_mod.py").write_text(
        textwrap.dedent(
            """
            import json
            import luigi

            class ParamReport(luigi.Task):
                n = luigi.IntParameter()
                when = luigi.DateParameter()
                tags = luigi.ListParameter(default=[])
                flag = luigi.BoolParameter()
                note = luigi.Parameter(default="default-note")
                out = luigi.Parameter()

                def output(self):
                    return luigi.LocalTarget(self.out)

                def run(self):
                    with self.output().open("w") as f:
                        values = {"n": self.n, "when": str(self.when), "tags": list(self.tags), "flag": self.flag}
                        json.dump(dict(values, note=self.note, id=self.task_id), f)
            """
        )
    )
    (tmp_path / "luigi.cfg").write_text('[ParamReport]\nnote = from-config\ntags = ["a", "b"]\n')
    repo = Path(luigi.__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(repo)]))
    command = [sys.executable, "-m", "luigi", "--module", "cli_params_mod", "ParamReport", "--local-scheduler"]
    command += ["--n", "5", "--when", "2013-07-10", "--ParamReport-flag", "--out", "result.json"]
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    assert result == {
        "n": 5,
        "when": "2013-07-10",
        "tags": ["a", "b"],
        "flag": True,
        "note": "from-config",
        "id": "ParamReport_True_5_from_config_f275fc7547",
    }
