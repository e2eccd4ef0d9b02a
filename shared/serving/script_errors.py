"""What can go wrong with a scoring-script deployment's server, as callers see it."""
from __future__ import annotations

from shared.domain.errors import MlcycleError, PermanentError


class ScriptFailed(PermanentError):
    """The scoring script cannot serve: loading it or its `init()` raised, its server
    exited, or it did not become ready in time. Permanent: the same code, model and
    environment fail the same way, so the roll-out fails at once and the deployment
    that served before keeps serving."""

    code = "ScriptFailed"
    status = 500


class ScoringTimeout(MlcycleError):
    """`run()` did not answer within the deployment's request timeout."""

    code = "ScoringTimeout"
    status = 504


class ScoringServerError(MlcycleError):
    """The scoring server broke off a request (it exited while scoring); it is started
    again for the next one."""

    code = "ScoringServerError"
    status = 502
