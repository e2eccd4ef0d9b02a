"""Triggers of the `sweep` queue and of the sweep timer, which advances running sweeps
between their trials' ends so that early termination acts while trials run."""
import azure.functions as func

from functions.queue import CONNECTION, dispatch
from shared.bootstrap import current
from shared.handlers.sweep import tick_sweeps

bp = func.Blueprint()


@bp.service_bus_queue_trigger(arg_name="msg", queue_name="sweep", connection=CONNECTION)
def sweep(msg: func.ServiceBusMessage) -> None:
    dispatch("sweep", msg)


@bp.timer_trigger(arg_name="timer", schedule="*/5 * * * * *", run_on_startup=True)
def sweep_timer(timer: func.TimerRequest) -> None:
    ports = current().ports()
    tick_sweeps(registry=ports["registry"], bus=ports["bus"], clock=ports["clock"])
