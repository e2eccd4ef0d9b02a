"""Trigger for the `deploy` queue."""
import azure.functions as func

from functions.queue import CONNECTION, dispatch

bp = func.Blueprint()


@bp.service_bus_queue_trigger(arg_name="msg", queue_name="deploy", connection=CONNECTION)
def deploy(msg: func.ServiceBusMessage) -> None:
    dispatch("deploy", msg)
