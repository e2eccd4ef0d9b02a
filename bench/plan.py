"""How much the suite measures: the full run (minutes, for BENCHMARKS.md) and the quick
one (seconds, run by the tests so the suite never rots; its figures mean nothing)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    quick: bool = False
    areas: tuple[str, ...] = ("payoff", "events", "scoring", "memory", "registration",
                              "jobs", "coldstart", "sweeps")
    models: tuple[str, ...] = ("sklearn", "torch")  # served by mlcycle and every peer
    batches: tuple[int, ...] = (1, 64, 1024)
    clients: tuple[int, ...] = (1, 16, 64, 256)
    # 256 clients each sending 1,024 rows (300 KB a request) queue ~77 MB of JSON: the
    # peers answer few of them within a run, and the figure would be of the queue.
    skip: tuple[tuple[int, int], ...] = ((1024, 256),)
    rounds: int = 3  # every figure is the median of this many runs
    duration_s: float = 2.0  # one load-generator run
    warmup_s: float = 1.0
    ort_s: float = 1.0  # one in-process onnxruntime timing loop
    peers: tuple[str, ...] = ("mlflow", "mlserver", "bentoml")  # bench/peers.py
    loadgen: str | None = None  # None: wrk when installed, else the asyncio client
    job_repeats: int = 5
    registration_models: tuple[str, ...] = ("sklearn", "torch", "keras")
    registration_repeats: int = 3
    memory_endpoints: int = 20  # live at once, each with its own model
    event_messages: int = 2000
    event_hops: int = 200
    cold_repeats: int = 3
    payoff_models: tuple[str, ...] = ("sklearn", "torch", "keras")
    payoff_s: float = 1.0
    sweep_trials: int = 50  # per sweep, bayesian and random alike
    sweep_seeds: int = 20
    sweep_concurrency: tuple[int, ...] = (1, 4)

    @property
    def grid(self) -> tuple[tuple[int, int], ...]:
        """(batch, clients) of every scoring configuration measured."""
        return tuple((b, c) for b in self.batches for c in self.clients
                     if (b, c) not in self.skip)

    @property
    def trained(self) -> tuple[str, ...]:
        """Every framework some area needs."""
        return tuple(dict.fromkeys(self.models + self.registration_models
                                   + self.payoff_models))


QUICK = Plan(quick=True, models=("sklearn",), batches=(1, 64), clients=(1, 4), rounds=2,
             duration_s=0.3, warmup_s=0.2, ort_s=0.05, peers=(), loadgen="python",
             job_repeats=1, registration_models=("sklearn",), registration_repeats=1,
             memory_endpoints=2, event_messages=100, event_hops=20, cold_repeats=1,
             payoff_models=("sklearn",), payoff_s=0.05, sweep_trials=12, sweep_seeds=2,
             sweep_concurrency=(2,))
