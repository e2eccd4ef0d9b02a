"""Which handler takes which message: the table the queue triggers dispatch through."""
from __future__ import annotations

import inspect
from typing import Callable

from shared.domain import messages as m
from shared.domain.errors import PermanentError
from shared.faults import pause_point
from shared.handlers.compute_scale import scale_pool
from shared.handlers.data_register import register_data
from shared.handlers.deploy import deploy_model, record_failed_conversion, roll_out_latest
from shared.handlers.job_complete import complete_job, record_start
from shared.handlers.job_launch import launch_job
from shared.handlers.model_register import register_model
from shared.handlers.onnx_convert import convert_model
from shared.handlers.sweep import advance_sweep

HANDLERS: dict[type[m.Message], Callable] = {
    m.RegisterData: register_data,
    m.JobSubmitted: scale_pool,
    m.ScalePool: scale_pool,
    m.LaunchJob: launch_job,
    m.JobStarted: record_start,
    m.CompleteJob: complete_job,
    m.AdvanceSweep: advance_sweep,
    m.RegisterModel: register_model,
    m.ModelRegistered: convert_model,
    m.ModelConverted: roll_out_latest,
    m.ConversionFailed: record_failed_conversion,
    m.DeployModel: deploy_model,
}


def handle(queue: str, body: bytes | str, ports: dict) -> None:
    """Run the handler for one queue message. Raises what the handler raises: the bus
    retries, or dead-letters a PermanentError at once."""
    envelope = m.Envelope.from_json(body)
    if envelope.queue != queue:
        raise PermanentError(f"a {envelope.type} message does not belong on queue {queue!r}")
    handler = HANDLERS[type(envelope.message)]
    wanted = {n for n, p in inspect.signature(handler).parameters.items()
              if p.kind is p.KEYWORD_ONLY}
    pause_point(envelope.type, "taken")  # a crash test's stop: taken, nothing done yet
    handler(envelope, **{n: ports[n] for n in wanted})
    pause_point(envelope.type, "handled")  # done, but the bus has not heard so
