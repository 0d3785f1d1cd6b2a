"""Errors of the run store, each one line naming what is wrong and what was expected."""

from dgm.errors import DgmError


class RunExistsError(DgmError):
    """`create` was pointed at a directory that already holds something."""


class NotARunError(DgmError):
    """The directory is missing or is not a run directory."""


class DamagedRunError(DgmError):
    """The directory looks like a run but a part of it cannot be read."""


class UnknownAgentError(DgmError):
    """No agent row with that id."""


class JobStateError(DgmError):
    """A job was asked for a transition its state machine does not allow."""


class ReadOnlyStoreError(DgmError):
    """A write was attempted through a store opened with readonly=True."""
