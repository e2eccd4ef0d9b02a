"""Trigger for the `onnx-convert` queue."""
import azure.functions as func

from functions.queue import CONNECTION, dispatch

bp = func.Blueprint()


@bp.service_bus_queue_trigger(arg_name="msg", queue_name="onnx-convert", connection=CONNECTION)
def onnx_convert(msg: func.ServiceBusMessage) -> None:
    dispatch("onnx-convert", msg)
