"""The Batch job and task of a launch plan.

One job per run (its id is the run id's batch_id) and one task in it, `main`. A plan of
one node is a plain task; a plan of several is a multi-instance task over as many
nodes (see batch_node for what its command lines do on each).

Where things lie on a node:
- single node: resource files in the task's working folder: stage/ (mlcycle.zip,
  plan.json, snapshot.tar.gz, inputs/<name>/); the node folder is node/ beside it.
- several nodes: the common resource files, which every node downloads, land in the
  task's root folder ($AZ_BATCH_TASK_DIR/stage); each node's folder is node/ in the
  task's shared folder, whose path is the same on every node, as mpirun needs. The
  primary's is moved into its working folder at the end, for the output files.
Output files, uploaded when the task completes (whatever its exit code), take the
primary's outputs/, logs/, user_logs/, MLflow stores and named outputs to
runs/<run_id>/, its exit.json and bootstrap log to runs/<run_id>/system_logs/node-0.*,
and Batch's own stdout.txt/stderr.txt of the task to runs/<run_id>/system_logs/.
"""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePosixPath

from azure.batch import models

from shared.adapters.batch_node import ENV_HASH, ENV_PIP, UPLOAD_URL
from shared.adapters.batch_pools import PoolDefaults, batch_id
from shared.ports import LaunchPlan

TASK_ID = "main"
RUN_TAG = "mlcycle-run-id"  # job metadata: the run a job belongs to
RETENTION = timedelta(days=1)  # how long a node keeps a finished task's folder
# working-folder pattern -> folder of runs/<run_id>/ it is uploaded to
OUTPUTS = (("node/code/outputs/**/*", "outputs"), ("node/code/logs/**/*", "logs"),
           ("node/user_logs/**/*", "user_logs"), ("node/mlruns/**/*", "mlruns"),
           ("node/mlruns_ranks/**/*", "mlruns_ranks"),
           ("node/named_outputs/**/*", "named_outputs"),
           ("node/exit.json", "system_logs/node-0.exit.json"),
           ("node/node_log.txt", "system_logs/node-0.txt"),
           ("../std*.txt", "system_logs"))


@dataclass(frozen=True)
class Staged:
    """URLs (with SAS) of what a task downloads, and of the container it uploads to.

    inputs: name -> the blob's URL (a file input) or its container's (a folder input).
    """

    package: str
    plan: str
    snapshot: str
    runs: str
    inputs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RunEnvironment:
    """Where a run's processes run: in `image` if it has one, and in a venv built on
    the node from `pip` when its environment is a conda file's (`key` is its hash)."""

    image: str | None = None
    pip: tuple[str, ...] = ()
    key: str = ""


def job_options(run_id: str, pool_id: str) -> models.BatchJobCreateOptions:
    """The run's job. It is created with no action on completion: Batch counts a job
    without tasks as complete, so termination is switched on once the task is added
    (see TERMINATE_WHEN_DONE)."""
    return models.BatchJobCreateOptions(
        id=batch_id(run_id), display_name=run_id,
        pool_info=models.BatchPoolInfo(pool_id=pool_id), all_tasks_complete_mode="noaction",
        metadata=[models.BatchMetadataItem(name=RUN_TAG, value=run_id)])


TERMINATE_WHEN_DONE = models.BatchJobUpdateOptions(all_tasks_complete_mode="terminatejob")


def task_options(plan: LaunchPlan, staged: Staged, environment: RunEnvironment,
                 defaults: PoolDefaults, *, allowance_s: float) -> models.BatchTaskCreateOptions:
    """The task that runs the plan.

    allowance_s: added to the plan's timeout for Batch's own limit on the task, which
        also covers staging and the environment's build. The node bootstrap keeps the
        plan's timeout exactly and reports it as a timeout; Batch's limit is the
        backstop for a node that cannot.
    """
    nodes = len(plan.nodes)
    files = resource_files(plan, staged)
    limit = timedelta(seconds=plan.timeout_s + allowance_s) if plan.timeout_s else None
    options = models.BatchTaskCreateOptions(
        id=TASK_ID, display_name=plan.run_id, command_line=application_command(nodes),
        resource_files=None if nodes > 1 else files,
        output_files=output_files(plan.run_id, staged.runs),
        environment_settings=task_environment(plan, environment, staged),
        constraints=models.BatchTaskConstraints(
            max_wall_clock_time=limit, max_task_retry_count=0, retention_time=RETENTION))
    if environment.image:
        options.container_settings = models.BatchTaskContainerSettings(
            image_name=environment.image,
            container_run_options=defaults.container_run_options)
    if nodes > 1:
        options.multi_instance_settings = models.MultiInstanceSettings(
            number_of_instances=nodes, coordination_command_line=coordination_command(),
            common_resource_files=files)
        # mpirun reaches the other nodes over SSH, which Batch sets up between the nodes
        # for the pool's auto-user.
        options.user_identity = models.UserIdentity(auto_user=models.AutoUserSpecification(
            scope="pool", elevation_level="admin"))
    return options


def application_command(nodes: int) -> str:
    """A single node's command, or the primary's application command."""
    if nodes == 1:
        return _node_command("run", "$AZ_BATCH_TASK_WORKING_DIR/stage",
                             "$AZ_BATCH_TASK_WORKING_DIR/node")
    return _node_command("run", "$AZ_BATCH_TASK_DIR/stage", "$AZ_BATCH_TASK_SHARED_DIR/node",
                         "--results", "$AZ_BATCH_TASK_WORKING_DIR/node")


def coordination_command() -> str:
    return _node_command("coordinate", "$AZ_BATCH_TASK_DIR/stage",
                         "$AZ_BATCH_TASK_SHARED_DIR/node")


def _node_command(command: str, stage: str, node: str, *extra: str) -> str:
    """Batch runs a command line without a shell; bash expands Batch's variables."""
    args = [f'"{stage}/mlcycle.zip"', command, "--stage", f'"{stage}"', "--node", f'"{node}"',
            *(f'"{a}"' if a.startswith("$") else a for a in extra)]
    # python3 on the host image, python in images that only have that name.
    script = 'exec "$(command -v python3 || command -v python)" ' + " ".join(args)
    return f"/bin/bash -c {shlex.quote(script)}"


def resource_files(plan: LaunchPlan, staged: Staged) -> list[models.ResourceFile]:
    """What Batch downloads into stage/ before the command starts."""
    files = [models.ResourceFile(http_url=staged.package, file_path="stage/mlcycle.zip"),
             models.ResourceFile(http_url=staged.plan, file_path="stage/plan.json"),
             models.ResourceFile(http_url=staged.snapshot, file_path="stage/snapshot.tar.gz")]
    for name, spec in sorted(plan.inputs.items()):
        blob = PurePosixPath(spec["blob"])
        if spec["mode"] == "file":
            files.append(models.ResourceFile(http_url=staged.inputs[name],
                                             file_path=f"stage/inputs/{name}/{blob.name}"))
            continue
        # A prefix ending in "/" keeps "data/v1" from also fetching "data/v10".
        prefix = "/".join(blob.parts[1:])
        files.append(models.ResourceFile(storage_container_url=staged.inputs[name],
                                         blob_prefix=f"{prefix}/" if prefix else None,
                                         file_path=f"stage/inputs/{name}"))
    return files


def output_files(run_id: str, runs_url: str) -> list[models.OutputFile]:
    return [models.OutputFile(
        file_pattern=pattern,
        destination=models.OutputFileDestination(container=models.OutputFileBlobContainerDestination(
            container_url=runs_url, path=f"{run_id}/{folder}")),
        upload_options=models.OutputFileUploadConfiguration(upload_condition="taskcompletion"))
        for pattern, folder in OUTPUTS]


def task_environment(plan: LaunchPlan, environment: RunEnvironment,
                     staged: Staged) -> list[models.EnvironmentSetting]:
    """The variables every process of the plan shares (MLCYCLE_RUN_ID, AZUREML_RUN_ID,
    the experiment...), so that they are on the task for anyone looking at it; the
    bootstrap still gives each process its own. Values that name the node folder are
    left to the bootstrap, which alone knows it."""
    envs = [p.env for node in plan.nodes for p in node.processes]
    shared = {k: v for k, v in envs[0].items()
              if "${" not in str(v) and all(e.get(k) == v for e in envs)} if envs else {}
    if environment.key:
        shared[ENV_HASH] = environment.key
        shared[ENV_PIP] = json.dumps(list(environment.pip))
    if len(plan.nodes) > 1:
        shared[UPLOAD_URL] = staged.runs
    return [models.EnvironmentSetting(name=k, value=str(v)) for k, v in sorted(shared.items())]
