"""Placeholder: this module is being written; see docs/ARCHITECTURE.md for its owner."""


def build(*args, **kwargs):
    raise NotImplementedError("luigi.build is not written yet")


def run(*args, **kwargs):
    raise NotImplementedError("luigi.run is not written yet")
