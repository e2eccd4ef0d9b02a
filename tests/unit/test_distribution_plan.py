"""Launch plans of distributed jobs: which node runs which rank with which environment,
and how the references to addresses and ports resolve on each executor."""
from __future__ import annotations

import json
import shlex

import pytest

from shared.domain.errors import PermanentError
from shared.runner.node import node_topology
from shared.runner.plan import build_plan, plan_from_json, plan_to_json, ports_of
from shared.runner.topology import Topology, batch_topology, expand

PYTORCH = {"type": "pytorch", "process_count_per_instance": 2}
MPI = {"type": "mpi", "process_count_per_instance": 2}


def tensorflow(workers: int, servers: int = 0) -> dict:
    return {"type": "tensorflow", "worker_count": workers, "parameter_server_count": servers}


def plan(distribution, instance_count=2, command="python train.py", **kw):
    return build_plan("run-d", command=command, snapshot="snapshots/s.tar.gz", inputs={},
                      outputs=[], experiment_name="exp", distribution=distribution,
                      instance_count=instance_count, **kw)


def processes(p):
    return [process for node in p.nodes for process in node.processes]


def by_node(p):
    return [[process.rank for process in node.processes] for node in p.nodes]


def resolved_tf_config(process, hosts=("10.0.0.4", "10.0.0.5")):
    variables = Topology(hosts, ports=(7000, 7001, 7002)).variables()
    return json.loads(expand(process.env["TF_CONFIG"], variables))


class TestPyTorch:
    def test_two_instances_of_two_processes_are_four_ranks_node_by_node(self):
        p = plan(PYTORCH)

        assert by_node(p) == [[0, 1], [2, 3]]
        assert [n.index for n in p.nodes] == [0, 1]
        for process in processes(p):
            env = process.env
            assert env["RANK"] == str(process.rank)
            assert env["LOCAL_RANK"] == str(process.local_rank) == str(process.rank % 2)
            assert env["NODE_RANK"] == str(process.rank // 2)
            assert (env["WORLD_SIZE"], env["LOCAL_WORLD_SIZE"]) == ("4", "2")
            assert (env["MASTER_ADDR"], env["MASTER_PORT"]) == ("${MLCYCLE_HOST_0}",
                                                                "${MLCYCLE_PORT_0}")
            assert process.command == "python train.py"

    def test_every_rank_knows_its_run_and_only_rank_0_writes_to_run_history(self):
        ranks = processes(plan(PYTORCH))

        assert {p.env["MLCYCLE_RUN_ID"] for p in ranks} == {"run-d"}
        assert {p.env["AZUREML_RUN_ID"] for p in ranks} == {"run-d"}
        assert ranks[0].env["MLFLOW_TRACKING_URI"] == "file://${MLCYCLE_NODE_DIR}/mlruns"
        assert [p.env["MLFLOW_TRACKING_URI"] for p in ranks[1:]] == [
            f"file://${{MLCYCLE_NODE_DIR}}/mlruns_ranks/{rank}" for rank in (1, 2, 3)]

    def test_the_specs_environment_variables_still_win(self):
        ranks = processes(plan(PYTORCH, extra_env={"MASTER_PORT": "29500"}))

        assert {p.env["MASTER_PORT"] for p in ranks} == {"29500"}

    def test_the_plan_needs_one_port_the_masters(self):
        assert ports_of(plan(PYTORCH)) == 1


class TestTensorFlow:
    def test_workers_are_dealt_over_the_instances_with_the_chief_on_the_master(self):
        p = plan(tensorflow(2))

        assert by_node(p) == [[0], [1]]
        configs = [resolved_tf_config(process) for process in processes(p)]
        assert [c["task"] for c in configs] == [{"type": "worker", "index": 0},
                                                {"type": "worker", "index": 1}]
        assert {json.dumps(c["cluster"]) for c in configs} == {
            json.dumps({"worker": ["10.0.0.4:7000", "10.0.0.5:7001"]})}
        assert {c["environment"] for c in configs} == {"cloud"}

    def test_parameter_servers_get_their_own_processes_and_addresses(self):
        p = plan(tensorflow(2, 1))

        assert by_node(p) == [[0, 2], [1]]
        configs = [resolved_tf_config(process) for process in processes(p)]
        cluster = configs[0]["cluster"]
        assert all(c["cluster"] == cluster for c in configs)
        assert cluster == {"worker": ["10.0.0.4:7000", "10.0.0.5:7001"],
                           "ps": ["10.0.0.4:7002"]}
        assert sorted((c["task"]["type"], c["task"]["index"]) for c in configs) == [
            ("ps", 0), ("worker", 0), ("worker", 1)]
        assert ports_of(p) == 3

    def test_on_one_instance_every_task_runs_on_it(self):
        p = plan(tensorflow(2, 1), instance_count=1)

        assert by_node(p) == [[0, 1, 2]]
        assert [proc.local_rank for proc in processes(p)] == [0, 1, 2]


class TestMpi:
    def test_one_mpirun_on_the_master_starts_every_rank_over_the_host_list(self):
        p = plan(MPI)

        (launcher,), workers = p.nodes[0].processes, p.nodes[1].processes
        assert workers == ()
        words = shlex.split(launcher.command)
        assert words[:5] == ["mpirun", "-np", "4", "--host",
                             "${MLCYCLE_HOST_0}:2,${MLCYCLE_HOST_1}:2"]
        assert words[-3:-1] == ["bash", "-c"] and "python train.py" in words[-1]
        assert launcher.env["AZ_BATCH_MASTER_NODE"] == "${MLCYCLE_HOST_0}:${MLCYCLE_PORT_0}"

    def test_ranks_on_other_hosts_get_the_runs_variables(self):
        words = shlex.split(processes(plan(MPI, extra_env={"SEED": "7"}))[0].command)

        exported = {words[i + 1] for i, w in enumerate(words) if w == "-x"}
        assert {"MLCYCLE_RUN_ID", "MLFLOW_TRACKING_URI", "SEED", "MLCYCLE_NODE_DIR",
                "PATH"} <= exported


class TestPlainCommands:
    def test_a_job_without_distribution_runs_its_command_once_per_instance(self):
        p = plan(None, instance_count=2)

        assert by_node(p) == [[0], [1]]
        assert [(x.env["RANK"], x.env["WORLD_SIZE"]) for x in processes(p)] == [("0", "2"),
                                                                             ("1", "2")]


@pytest.mark.parametrize("distribution, instance_count", [
    ({"type": "horovod"}, 1),
    ({"type": "pytorch", "process_count_per_instance": 0}, 1),
    ({"type": "tensorflow", "worker_count": 0}, 1),
    ({"type": "tensorflow", "worker_count": 1, "parameter_server_count": -1}, 1),
    (None, 0),
])
def test_an_impossible_distribution_is_a_permanent_error(distribution, instance_count):
    with pytest.raises(PermanentError):
        plan(distribution, instance_count=instance_count)


def test_a_distributed_plan_with_its_interpreter_survives_a_json_round_trip():
    original = plan(tensorflow(2, 1), interpreter="/envs/abc/bin/python", timeout_s=30.0)

    assert plan_from_json(plan_to_json(original)) == original


class TestTopology:
    def test_references_resolve_and_other_text_is_left_alone(self):
        variables = {**Topology(("127.0.0.1",), (5000,)).variables(), "MLCYCLE_NODE_DIR": "/n"}

        assert expand("${MLCYCLE_HOST_0}:${MLCYCLE_PORT_0} ${MLCYCLE_NODE_DIR} $HOME ${X}",
                      variables) == "127.0.0.1:5000 /n $HOME ${X}"

    def test_on_batch_the_master_is_node_0_and_ports_count_from_its_port(self):
        environ = {"AZ_BATCH_HOST_LIST": "10.0.0.5,10.0.0.4,10.0.0.6",
                   "AZ_BATCH_MASTER_NODE": "10.0.0.4:6000"}

        topology = batch_topology(environ, node_count=3, port_count=2, own_address="10.0.0.6")

        assert topology == Topology(("10.0.0.4", "10.0.0.5", "10.0.0.6"), (6000, 6001), 2)

    def test_a_node_bootstrap_without_hosts_takes_them_from_batch(self):
        environ = {"AZ_BATCH_HOST_LIST": "10.0.0.4,10.0.0.5",
                   "AZ_BATCH_MASTER_NODE": "10.0.0.4:6000", "MLCYCLE_NODE_ADDRESS": "10.0.0.5"}
        p = plan(PYTORCH)

        topology = node_topology({"bus_path": ""}, p, environ)

        assert topology == Topology(("10.0.0.4", "10.0.0.5"), (6000,), 1)
        assert [proc.rank for proc in p.nodes[topology.index].processes] == [2, 3]

    def test_a_lone_node_finds_its_own_free_ports(self):
        topology = node_topology({"index": 0}, plan(tensorflow(2, 1), instance_count=1), {})

        assert topology.hosts == ("127.0.0.1",) and len(set(topology.ports)) == 3

    @pytest.mark.parametrize("environ, own", [
        ({}, "10.0.0.4"),
        ({"AZ_BATCH_HOST_LIST": "10.0.0.4", "AZ_BATCH_MASTER_NODE": "10.0.0.4:6000"},
         "10.0.0.4"),
        ({"AZ_BATCH_HOST_LIST": "10.0.0.4,10.0.0.5", "AZ_BATCH_MASTER_NODE": "10.0.0.4:x"},
         "10.0.0.4"),
        ({"AZ_BATCH_HOST_LIST": "10.0.0.4,10.0.0.5", "AZ_BATCH_MASTER_NODE": "10.0.0.4:6000"},
         "10.0.0.9"),
    ])
    def test_batch_variables_that_do_not_fit_the_plan_are_refused(self, environ, own):
        with pytest.raises(PermanentError):
            batch_topology(environ, node_count=2, port_count=1, own_address=own)
