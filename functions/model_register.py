"""Trigger for the `model-register` queue."""
import azure.functions as func

from functions.queue import CONNECTION, dispatch

bp = func.Blueprint()


@bp.service_bus_queue_trigger(arg_name="msg", queue_name="model-register", connection=CONNECTION)
def model_register(msg: func.ServiceBusMessage) -> None:
    dispatch("model-register", msg)
