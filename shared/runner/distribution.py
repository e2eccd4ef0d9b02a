"""The processes of each node for Azure ML's distribution types, and the environment
DESIGN.md gives each of them. Addresses and ports are references the node bootstrap
resolves (see topology.py); node 0 is the master.

- none: one process per instance, RANK = node index.
- pytorch: process_count_per_instance processes per node, with MASTER_ADDR, MASTER_PORT,
  WORLD_SIZE, RANK, LOCAL_RANK, NODE_RANK and LOCAL_WORLD_SIZE (torchrun's names).
- tensorflow: worker_count + parameter_server_count processes, one per (type, index),
  dealt round-robin over the nodes so worker 0 (the chief) is on the master; each gets
  TF_CONFIG, each task its own port.
- mpi: one mpirun on the master starting instance_count x process_count_per_instance
  ranks over the host list; the other nodes start nothing. Each rank's output goes to
  its own std_log_process_<rank>.txt (mpirun's own messages go to rank 0's), and a rank
  that ends leaves its exit code in rank_exits/<rank>, so the bootstrap can name the
  rank that failed rather than mpirun.
"""
from __future__ import annotations

import json
import shlex
from collections.abc import Iterable

from shared.domain.errors import PermanentError
from shared.ports import ProcessSpec
from shared.runner.topology import host_ref, port_ref

TYPES = ("pytorch", "tensorflow", "mpi")
RANK_EXITS = "rank_exits"  # folder of the node, where MPI ranks leave their exit codes
RANK_STORES = "mlruns_ranks"  # MLflow stores of ranks other than 0, under the node folder
Nodes = tuple[tuple[ProcessSpec, ...], ...]  # the processes of node 0, node 1, ...


def layout(distribution: dict | None, instance_count: int, command: str,
           exported: Iterable[str] = ()) -> Nodes:
    """The processes of each node, with the environment their distribution type gives.

    Parameters:
        distribution: {"type": "pytorch"|"mpi", "process_count_per_instance": n} or
            {"type": "tensorflow", "worker_count": w, "parameter_server_count": s}; None
            for a plain command.
        instance_count: how many nodes.
        command: what each process (each MPI rank) runs.
        exported: names of the variables mpirun must pass on to ranks on other hosts.
    Raises: PermanentError for an unknown type or a count below its minimum.
    """
    nodes = _count(instance_count, "resources.instance_count", 1)
    kind = str((distribution or {}).get("type") or "").lower()
    if not kind:
        return tuple((_plain(n, nodes, command),) for n in range(nodes))
    if kind not in TYPES:
        raise PermanentError(f"distribution type {kind!r} is not one of {', '.join(TYPES)}")
    if kind == "tensorflow":
        workers = _count(distribution.get("worker_count", nodes), "worker_count", 1)
        servers = _count(distribution.get("parameter_server_count", 0),
                         "parameter_server_count", 0)
        return tensorflow(nodes, workers, servers, command)
    per_node = _count(distribution.get("process_count_per_instance", 1),
                      "process_count_per_instance", 1)
    if kind == "pytorch":
        return pytorch(nodes, per_node, command)
    return mpi(nodes, per_node, command, exported)


def _count(value: object, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise PermanentError(f"{name} must be a whole number of at least {least}, not {value!r}")
    return value


def _plain(node: int, nodes: int, command: str) -> ProcessSpec:
    env = {"RANK": str(node), "LOCAL_RANK": "0", "WORLD_SIZE": str(nodes)}
    return ProcessSpec(rank=node, local_rank=0, command=command, env=env)


def pytorch(nodes: int, per_node: int, command: str) -> Nodes:
    """torch.distributed's environment: rank = node * per_node + local rank."""
    shared = {"MASTER_ADDR": host_ref(0), "MASTER_PORT": port_ref(0),
              "WORLD_SIZE": str(nodes * per_node), "LOCAL_WORLD_SIZE": str(per_node)}

    def process(node: int, local: int) -> ProcessSpec:
        rank = node * per_node + local
        env = {**shared, "RANK": str(rank), "LOCAL_RANK": str(local), "NODE_RANK": str(node)}
        return ProcessSpec(rank=rank, local_rank=local, command=command, env=env)

    return tuple(tuple(process(n, l) for l in range(per_node)) for n in range(nodes))


def tensorflow(nodes: int, workers: int, servers: int, command: str) -> Nodes:
    """One process per TensorFlow task; rank = the task's place in workers then ps.

    A parameter server is supervised like any process: the run ends when all have, so
    its script must end by itself (a bare server.join() would hold the run until
    limits.timeout)."""
    tasks = [("worker", i) for i in range(workers)] + [("ps", i) for i in range(servers)]
    addresses = [f"{host_ref(t % nodes)}:{port_ref(t)}" for t in range(len(tasks))]
    cluster = {"worker": addresses[:workers]}
    if servers:  # an empty "ps" list crashes MultiWorkerMirroredStrategy (TF 2.21)
        cluster["ps"] = addresses[workers:]
    placed: list[list[ProcessSpec]] = [[] for _ in range(nodes)]
    for rank, (kind, index) in enumerate(tasks):
        config = {"cluster": cluster, "task": {"type": kind, "index": index},
                  "environment": "cloud"}
        node = placed[rank % nodes]
        node.append(ProcessSpec(rank=rank, local_rank=len(node), command=command,
                                env={"TF_CONFIG": json.dumps(config)}))
    return tuple(tuple(node) for node in placed)


def mpi(nodes: int, per_node: int, command: str, exported: Iterable[str] = ()) -> Nodes:
    """One mpirun on the master over `<host>:<slots>` of every node; OpenMPI gives each
    rank OMPI_COMM_WORLD_RANK and friends. Slots are declared, so mpirun need not
    oversubscribe even where the nodes share one machine."""
    hosts = ",".join(f"{host_ref(n)}:{per_node}" for n in range(nodes))
    names = sorted({"MLCYCLE_NODE_DIR", "PATH", *exported})
    launcher = " ".join([
        "mpirun", "-np", str(nodes * per_node), "--host", hosts,
        *(f"-x {shlex.quote(name)}" for name in names),
        "bash", "-c", shlex.quote(rank_wrapper(command))])
    env = {"AZ_BATCH_MASTER_NODE": f"{host_ref(0)}:{port_ref(0)}",
           # Azure ML's containers run as root too; OpenMPI refuses that unless told.
           "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    master = (ProcessSpec(rank=0, local_rank=0, command=launcher, env=env),)
    return (master,) + tuple(() for _ in range(1, nodes))


def rank_wrapper(command: str) -> str:
    """What each MPI rank runs: its output to its own log, MLflow to its own store unless
    it is rank 0, the command in a subshell (so an `exit` in it still reports), and its
    exit code to rank_exits/<rank>."""
    return "\n".join([
        'rank="$OMPI_COMM_WORLD_RANK"',
        'mkdir -p "$MLCYCLE_NODE_DIR/user_logs" "$MLCYCLE_NODE_DIR/%s"' % RANK_EXITS,
        'exec >>"$MLCYCLE_NODE_DIR/user_logs/std_log_process_$rank.txt" 2>&1',
        'history="file://$MLCYCLE_NODE_DIR/mlruns"  # only rank 0 writes run history',
        'if [ "$rank" != 0 ] && [ "$MLFLOW_TRACKING_URI" = "$history" ]; then',
        '  export MLFLOW_TRACKING_URI="file://$MLCYCLE_NODE_DIR/%s/$rank"' % RANK_STORES,
        "fi",
        "(",
        command,
        ")",
        "code=$?",
        'echo "$code" >"$MLCYCLE_NODE_DIR/%s/$rank"' % RANK_EXITS,
        'exit "$code"',
    ])
