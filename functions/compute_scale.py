"""Trigger for the `compute-scale` queue."""
import azure.functions as func

from functions.queue import CONNECTION, dispatch

bp = func.Blueprint()


@bp.service_bus_queue_trigger(arg_name="msg", queue_name="compute-scale", connection=CONNECTION)
def compute_scale(msg: func.ServiceBusMessage) -> None:
    dispatch("compute-scale", msg)
