"""Placeholder: this module is being written; see docs/ARCHITECTURE.md for its owner."""


class RPCError(Exception):
    pass


class RemoteScheduler:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("luigi.rpc.RemoteScheduler is not written yet")
