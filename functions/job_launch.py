"""Trigger for the `job-launch` queue."""
import azure.functions as func

from functions.queue import CONNECTION, dispatch

bp = func.Blueprint()


@bp.service_bus_queue_trigger(arg_name="msg", queue_name="job-launch", connection=CONNECTION)
def job_launch(msg: func.ServiceBusMessage) -> None:
    dispatch("job-launch", msg)
