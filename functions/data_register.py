"""Trigger for the `data-register` queue."""
import azure.functions as func

from functions.queue import CONNECTION, dispatch

bp = func.Blueprint()


@bp.service_bus_queue_trigger(arg_name="msg", queue_name="data-register", connection=CONNECTION)
def data_register(msg: func.ServiceBusMessage) -> None:
    dispatch("data-register", msg)
