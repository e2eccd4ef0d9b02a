"""Errors that mean something to the bus and to HTTP callers."""


class MlcycleError(Exception):
    """Base class: a problem mlcycle can name for its caller."""

    code = "Error"
    status = 500


class PermanentError(MlcycleError):
    """Retrying cannot help (invalid spec, missing file): dead-letter at once."""

    code = "PermanentError"
    status = 400


class InvalidSpec(PermanentError):
    code = "InvalidSpec"
    status = 400


class NotFound(PermanentError):
    code = "NotFound"
    status = 404


class Conflict(MlcycleError):
    """An optimistic-concurrency check failed; the caller re-reads and retries."""

    code = "Conflict"
    status = 409


class TransientError(MlcycleError):
    """Worth a retry with backoff (a resource not ready yet)."""

    code = "Transient"
    status = 503
