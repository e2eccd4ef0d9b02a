"""Timer trigger: let idle pools shrink after their idle time, even when no run ends."""
import azure.functions as func

from shared.bootstrap import current
from shared.handlers.compute_scale import tick_pools

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="*/15 * * * * *", run_on_startup=True)
def pool_timer(timer: func.TimerRequest) -> None:
    ports = current().ports()
    tick_pools(registry=ports["registry"], bus=ports["bus"], clock=ports["clock"])
