"""Timer trigger: notice runs whose processes ended without reporting."""
import azure.functions as func

from shared.bootstrap import current
from shared.handlers.reconcile import reconcile_runs

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="*/15 * * * * *", run_on_startup=True)
def reconciler(timer: func.TimerRequest) -> None:
    ports = current().ports()
    reconcile_runs(registry=ports["registry"], compute=ports["compute"], bus=ports["bus"])
