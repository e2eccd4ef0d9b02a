"""Where a run's nodes are: the address of each node, the ports the plan uses, and which
node this one is. A launch plan names addresses and ports only by reference
(${MLCYCLE_HOST_<node>}, ${MLCYCLE_PORT_<n>}); the executor supplies the values, so one
plan runs locally (every node on 127.0.0.1, free ports) and on an Azure Batch
multi-instance task (addresses from AZ_BATCH_HOST_LIST and AZ_BATCH_MASTER_NODE).

Node 0 is the master, as on Azure ML: MASTER_ADDR, the TensorFlow chief and mpirun live
there.
"""
from __future__ import annotations

import random
import re
import socket
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from shared.domain.errors import PermanentError

LOCALHOST = "127.0.0.1"
EPHEMERAL_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"
_LOWEST_PLAN_PORT = 20000  # above the ports well-known services listen on
_PORT_REF = re.compile(r"\$\{MLCYCLE_PORT_(\d+)\}")
_REF = re.compile(r"\$\{(MLCYCLE_(?:NODE_DIR|HOST_\d+|PORT_\d+))\}")


def host_ref(node: int) -> str:
    """The reference a plan uses for the address of node `node`."""
    return "${MLCYCLE_HOST_%d}" % node


def port_ref(number: int) -> str:
    """The reference a plan uses for its port number `number` (0, 1, ...)."""
    return "${MLCYCLE_PORT_%d}" % number


@dataclass(frozen=True)
class Topology:
    """The addresses of a run's nodes (by node index; node 0 is the master), the values
    of the plan's ports, and the index of the node that reads it."""

    hosts: tuple[str, ...]
    ports: tuple[int, ...]
    index: int = 0

    def variables(self) -> dict[str, str]:
        """The environment that resolves the plan's references: MLCYCLE_HOST_<i>,
        MLCYCLE_PORT_<n> and MLCYCLE_NODE_INDEX."""
        names = {f"MLCYCLE_HOST_{i}": host for i, host in enumerate(self.hosts)}
        names.update({f"MLCYCLE_PORT_{n}": str(port) for n, port in enumerate(self.ports)})
        names["MLCYCLE_NODE_INDEX"] = str(self.index)
        return names


def ports_needed(texts: Iterable[str]) -> int:
    """How many ports the texts (a plan's env values and commands) refer to."""
    return max((int(n) + 1 for text in texts for n in _PORT_REF.findall(text)), default=0)


def expand(text: str, variables: Mapping[str, str]) -> str:
    """Replace the references to MLCYCLE_NODE_DIR, MLCYCLE_HOST_<i> and MLCYCLE_PORT_<n>
    that `variables` defines; everything else (user text included) stays as written."""
    return _REF.sub(lambda m: variables.get(m.group(1), m.group(0)), text)


def free_ports(count: int, host: str = LOCALHOST) -> tuple[int, ...]:
    """`count` distinct ports free on host now, outside the kernel's ephemeral range.

    The ports are only released here and bound later, by the run's own processes
    (torch's TCPStore on MASTER_PORT, a TensorFlow server), seconds later on a busy
    machine. A port from the ephemeral range could meanwhile be handed to any socket
    bound to port 0 or connecting out, and the master would then fail to listen. Below
    the range only a program naming that very port can take it. All are held open until
    the last is found, so none is handed out twice here.
    """
    low, high = _unassigned_ports()
    candidates = list(range(low, high))
    random.SystemRandom().shuffle(candidates)
    with ExitStack() as held:
        ports: list[int] = []
        for port in [*candidates, *[0] * count]:  # 0: where the range has none, the kernel's
            if len(ports) == count:
                break
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((host, port))
            except OSError:
                sock.close()
                continue  # in use, or still in TIME_WAIT
            ports.append(held.enter_context(sock).getsockname()[1])
        return tuple(ports)


def _unassigned_ports() -> tuple[int, int]:
    """[low, high): registered ports no service is likely to hold, below the ephemeral
    range that Linux reports; (0, 0) where there is no room or no such report, and the
    kernel picks (bind to port 0)."""
    try:
        first = int(Path(EPHEMERAL_RANGE).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0, 0
    low = _LOWEST_PLAN_PORT
    return (low, first) if first - low >= 1024 else (0, 0)


def local_topology(node_count: int, port_count: int) -> Topology:
    """Every node on this machine, with ports free now (the caller hands the same value
    to every node of the run, with its own index)."""
    return Topology((LOCALHOST,) * node_count, free_ports(port_count))


def batch_topology(environ: Mapping[str, str], *, node_count: int, port_count: int,
                   own_address: str) -> Topology:
    """The topology of an Azure Batch multi-instance task, from the variables Batch sets.

    The master (AZ_BATCH_MASTER_NODE, "addr:port") is node 0 and the other hosts of
    AZ_BATCH_HOST_LIST follow in its order; the plan's ports count up from the master's
    port (every node has its own address there, so they cannot collide).

    Parameters:
        environ: the coordination command's environment.
        node_count: how many nodes the plan has.
        port_count: how many ports it refers to.
        own_address: this node's address, as AZ_BATCH_HOST_LIST spells it.
    Raises: PermanentError when the variables are missing, disagree with the plan's
        node count, or do not list own_address.
    """
    try:
        listed = [h for h in environ["AZ_BATCH_HOST_LIST"].split(",") if h]
        master, port = environ["AZ_BATCH_MASTER_NODE"].rsplit(":", 1)
        first_port = int(port)
    except (KeyError, ValueError) as exc:
        raise PermanentError(f"not an Azure Batch multi-instance task: {exc!r}") from exc
    hosts = [master] + [h for h in listed if h != master]
    if len(hosts) != node_count or own_address not in hosts:
        raise PermanentError(f"Batch hosts {hosts} do not fit a plan of {node_count} "
                             f"node(s) run on {own_address}")
    ports = tuple(first_port + n for n in range(port_count))
    return Topology(tuple(hosts), ports, hosts.index(own_address))
