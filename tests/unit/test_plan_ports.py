"""The ports a local run's plan gets (MASTER_PORT, TensorFlow's task ports) are chosen at
submit and bound by the run's own processes seconds later. In between nothing else on
the machine may be given them: on a busy machine every server bound to port 0 and every
outgoing connection takes a port from the kernel's ephemeral range, so the plan's ports
lie below it."""
import socket
from pathlib import Path

import pytest

from shared.runner.topology import EPHEMERAL_RANGE, free_ports

pytestmark = pytest.mark.skipif(not Path(EPHEMERAL_RANGE).exists(),
                                reason="the kernel reports no ephemeral port range")
BINDS = 100_000  # about seven times the ports the kernel hands out to bind(0) here


def test_the_ports_are_distinct_free_and_below_the_ephemeral_range():
    low = int(Path(EPHEMERAL_RANGE).read_text().split()[0])
    ports = free_ports(4)
    assert len(set(ports)) == 4 and all(1024 < port < low for port in ports)
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # still free once released


def test_no_socket_bound_to_port_0_is_given_one_of_them_before_the_run_binds_it():
    ports = set(free_ports(2))
    for _ in range(BINDS):
        with socket.socket() as other:  # any other program's server, or test's
            other.bind(("127.0.0.1", 0))
            assert other.getsockname()[1] not in ports
