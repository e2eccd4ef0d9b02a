"""Trigger for the `job-complete` queue."""
import azure.functions as func

from functions.queue import CONNECTION, dispatch

bp = func.Blueprint()


@bp.service_bus_queue_trigger(arg_name="msg", queue_name="job-complete", connection=CONNECTION)
def job_complete(msg: func.ServiceBusMessage) -> None:
    dispatch("job-complete", msg)
