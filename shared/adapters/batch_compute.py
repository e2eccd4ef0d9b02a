"""BatchCompute: the Compute port on Azure Batch (azure-batch 15), the cloud twin of
LocalCompute. One launch plan, two executors: here each run is a Batch job holding one
task (a multi-instance task when the plan has several nodes) on the pool of the run's
compute, and the node bootstrap runs on the nodes from mlcycle's own code, shipped with
the task (batch_package, batch_node).
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import PurePosixPath
from typing import Callable

from azure.batch import BatchClient
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from shared.adapters.batch_package import upload_node_package
from shared.adapters.batch_pools import (PoolDefaults, batch_id, node_split, pool_options,
                                         resize_options, targets_of)
from shared.adapters.batch_tasks import (RUN_TAG, TASK_ID, TERMINATE_WHEN_DONE, RunEnvironment,
                                         Staged, job_options, task_options)
from shared.domain.errors import NotFound, PermanentError, TransientError
from shared.ports import BlobStore, LaunchPlan, NodeState, Registry
from shared.runner.collected import refusal_warning
from shared.runner.outcome import combine, exited
from shared.runner.plan import plan_to_json

MAX_SAS_TTL_S = 7 * 24 * 3600  # the longest a SAS signed by a user delegation key lives
QUEUE_ALLOWANCE_S = 24 * 3600  # how long a task may wait for nodes with its URLs valid
WALL_CLOCK_ALLOWANCE_S = 1800  # staging and building the environment, on top of the timeout
RESIZE_POLL_S = 30  # how often the SDK's resize poller looks; nothing waits for it


class BatchCompute:
    """Runs launch plans as Azure Batch jobs, and sizes the computes' Batch pools.

    submit creates the job (its id the run's) and its task, and is idempotent: what
    exists already (409) is left as it is. poll reads the task: "running" from the
    moment it exists until it completes (it may wait for nodes first), then "exited"
    with what the nodes' exit.json files say (uploaded with the task's output files),
    or the task's own exit code where they are missing. Completion is found by the timer
    reconciler's poll: a Batch node has no bus to report on. The task's output files
    upload outputs, logs and user logs when it completes, so collect only records what
    Batch says of the task.

    Parameters:
        account_url: the Batch account's endpoint (https://<name>.<region>.batch.azure.com).
        credential: an azure.identity credential (the app's managed identity), or an
            AzureNamedKeyCredential.
        blobs: where snapshots, inputs and runs/ live; signs SAS URLs (`sas_url`) that
            the nodes read from and upload to.
        registry: where a run's compute and environment are read at submit; without
            one, every run goes to `defaults.default_pool` on the host's python.
        defaults: what compute records leave to the deployment (image, VM size...).
        client_options: passed on to azure.batch.BatchClient (e.g. `transport`).
    """

    builds_environments = True  # batch_node builds a run's venv on the node

    def __init__(self, account_url: str, *, credential, blobs: BlobStore,
                 registry: Registry | None = None, defaults: PoolDefaults = PoolDefaults(),
                 **client_options) -> None:
        self.account_url = account_url
        self.credential = credential
        self.blobs = blobs
        self.registry = registry
        self.defaults = defaults
        self._client_options = client_options
        self._client: BatchClient | None = None
        self._package: str | None = None

    @property
    def client(self) -> BatchClient:
        """Built on first use, so an app without a Batch account still starts."""
        if not self.account_url:
            raise PermanentError("no Batch account: set MLCYCLE_BATCH_ACCOUNT_URL")
        if self._client is None:
            self._client = BatchClient(self.account_url, self.credential, **self._client_options)
        return self._client

    # --- pools -------------------------------------------------------------------------

    def resize(self, pool: dict) -> None:
        """Carry out a compute-scale decision: the compute's pool gets the record's
        target_nodes, created from the record on first use. Nothing is sent when the
        pool's targets already match.

        Raises: TransientError while Batch is still carrying out an earlier resize to
            another size (Batch refuses a resize until the pool is steady); the bus
            retries, and the pool timer decides again.
        """
        current = self.ensure_pool(pool)
        if current is None:
            return  # created at the decided size
        wanted = node_split(pool, int(pool.get("target_nodes") or 0))
        if targets_of(current) == wanted:
            return
        if current.allocation_state != "steady":
            raise TransientError(f"Batch pool {current.id} is still resizing to "
                                 f"{targets_of(current)}; it goes to {wanted} once steady")
        # The SDK's poller watches the resize in a daemon thread; nobody waits for it:
        # Batch resizes on its own and the next decision reads the pool afresh.
        self.client.begin_resize_pool(current.id, resize_options(pool, self.defaults),
                                      polling_interval=RESIZE_POLL_S)

    def ensure_pool(self, pool: dict):
        """The compute's Batch pool as it is, or None if it had to be created now."""
        pool_id = batch_id(pool["name"])
        try:
            return self.client.get_pool(pool_id)
        except ResourceNotFoundError:
            pass
        try:
            self.client.create_pool(pool_options(pool, self.defaults))
            return None
        except ResourceExistsError:
            return self.client.get_pool(pool_id)  # another delivery created it meanwhile

    # --- launching ---------------------------------------------------------------------

    def submit(self, plan: LaunchPlan) -> None:
        """Create the run's job and task; a job or task that exists already is kept.

        Raises: NotFound for a missing snapshot or input, before anything is created.
        """
        run = self._run(plan.run_id)
        pool_id = batch_id(run.get("compute") or self.defaults.default_pool)
        job_id = batch_id(plan.run_id)
        staged = self._stage(plan)
        task = task_options(plan, staged, self._environment(run), self.defaults,
                            allowance_s=WALL_CLOCK_ALLOWANCE_S)
        _created(lambda: self.client.create_job(job_options(plan.run_id, pool_id)))
        _created(lambda: self.client.create_task(job_id, task))
        _settled(lambda: self.client.update_job(job_id, TERMINATE_WHEN_DONE))

    def _run(self, run_id: str) -> dict:
        record = self.registry.get("run", run_id) if self.registry is not None else None
        return record.body if record is not None else {}

    def _environment(self, run: dict) -> RunEnvironment:
        """The plan's interpreter names a python of the host that built the plan, which a
        node does not have: the node builds the venv itself from the run's record."""
        spec = run.get("environment_spec") or {}
        image = spec.get("image") or self.defaults.default_image
        if spec.get("kind") == "venv":
            return RunEnvironment(image, tuple(spec.get("pip") or ()), spec.get("hash") or "")
        return RunEnvironment(image)

    def _stage(self, plan: LaunchPlan) -> Staged:
        """The plan (without the host's interpreter) next to the run's files, and URLs
        valid while the task may wait for nodes and then run to its timeout."""
        ttl = min(MAX_SAS_TTL_S, QUEUE_ALLOWANCE_S + (plan.timeout_s or MAX_SAS_TTL_S))

        def readable(path: str) -> str:
            return self.blobs.sas_url(path, write=False, ttl_s=ttl)

        inputs = {}
        for name, spec in plan.inputs.items():
            if not (self.blobs.exists(spec["blob"]) if spec["mode"] == "file"
                    else self.blobs.list(spec["blob"])):
                raise NotFound(f"input {name!r}: nothing stored at {spec['blob']!r}")
            container = PurePosixPath(spec["blob"]).parts[0]
            inputs[name] = readable(spec["blob"] if spec["mode"] == "file" else container)
        if not self.blobs.exists(plan.snapshot):
            raise NotFound(f"code snapshot {plan.snapshot!r} does not exist")
        plan_path = f"runs/{plan.run_id}/system_logs/launch_plan.json"
        self.blobs.put(plan_path, plan_to_json(replace(plan, interpreter=None)).encode())
        if self._package is None:
            self._package = upload_node_package(self.blobs)
        return Staged(package=readable(self._package), plan=readable(plan_path),
                      snapshot=readable(plan.snapshot), inputs=inputs,
                      runs=self.blobs.sas_url("runs", write=True, ttl_s=ttl))

    # --- watching ----------------------------------------------------------------------

    def poll(self, run_id: str) -> NodeState:
        """"unknown" without a task; "running" until it completes; then "exited" with
        the nodes' own account (exit.json of each node that got to upload one, combined
        as shared.runner.outcome.combine does), else the task's exit code. A task that
        ended with no exit code, or with 0 and a Batch failure (a resource file that
        could not be fetched, outputs that could not be uploaded), is "lost"."""
        try:
            task = self.client.get_task(batch_id(run_id), TASK_ID)
        except ResourceNotFoundError:
            return NodeState("unknown")
        info = task.execution_info
        started = _iso(info.start_time if info else None)
        if task.state != "completed":
            return NodeState("running", started_at=started)
        reported = self._node_exits(run_id)
        if reported:
            return combine(reported)
        code = info.exit_code if info else None
        failed = info is not None and info.failure_info is not None
        lost = code is None or (failed and code == 0)
        return NodeState("exited", exit_code=code, reason="lost" if lost else "",
                         started_at=started, ended_at=_iso(info.end_time if info else None))

    def _node_exits(self, run_id: str) -> list[tuple[NodeState, str]]:
        found = []
        for path in self.blobs.list(f"runs/{run_id}/system_logs"):
            if path.endswith(".exit.json"):
                body = json.loads(self.blobs.get(path))
                found.append((exited(body), body.get("failed_at") or ""))
        return found

    def running(self) -> list[str]:
        """Run ids of mlcycle's active jobs (a job ends with its task), sorted."""
        jobs = self.client.list_jobs(filter="state eq 'active'", select=["id", "metadata"])
        return sorted(item.value for job in jobs for item in job.metadata or ()
                      if item.name == RUN_TAG)

    def read_log(self, run_id: str, rank: int, offset: int) -> bytes:
        """From run history once the task's output files are uploaded; before that, from
        the primary node's folder through Batch's file API (a rank on another node of a
        multi-node run has no log to read until the end). b"" before the log exists."""
        name = f"std_log_process_{rank}.txt"
        uploaded = f"runs/{run_id}/user_logs/{name}"
        if self.blobs.exists(uploaded):
            return self.blobs.get(uploaded)[offset:]
        try:
            return b"".join(self.client.download_task_file(
                batch_id(run_id), TASK_ID, f"wd/node/user_logs/{name}",
                ocp_range=f"bytes={offset}-"))
        except ResourceNotFoundError:
            return b""
        except HttpResponseError as exc:
            if exc.status_code == 416:  # nothing written past offset yet
                return b""
            raise

    # --- stopping and collecting -------------------------------------------------------

    def cancel(self, run_id: str) -> None:
        """Terminate the task (the bootstrap gets SIGTERM and stops the processes) and let
        the job end; a run that has ended, or never was, is fine."""
        job_id = batch_id(run_id)
        _settled(lambda: self.client.terminate_task(job_id, TASK_ID))
        # A job whose task was never added counts as complete once termination is on.
        _settled(lambda: self.client.update_job(job_id, TERMINATE_WHEN_DONE))

    def collect(self, run_id: str, blobs: BlobStore) -> list[str]:
        """Batch has uploaded the run's files with the task's output files; what is left
        is Batch's own account of the task (state, exit code, failure, node, and each
        subtask of a multi-node run), kept as runs/<run_id>/system_logs/batch_task.json.
        Returns a warning for each link the nodes refused to let out (their exit.json
        files, uploaded beside it, name them)."""
        job_id = batch_id(run_id)
        try:
            task = self.client.get_task(job_id, TASK_ID)
        except ResourceNotFoundError:
            return []
        account = {"task": task.as_dict()}
        if task.multi_instance_settings is not None:
            account["subtasks"] = [s.as_dict() for s in self.client.list_subtasks(job_id, TASK_ID)]
        blobs.put(f"runs/{run_id}/system_logs/batch_task.json",
                  json.dumps(account, indent=1, default=str).encode())
        return _refused_links(blobs, run_id)


def _refused_links(blobs: BlobStore, run_id: str) -> list[str]:
    """The warnings for the links each node's exit.json says it refused."""
    found = []
    for path in blobs.list(f"runs/{run_id}/system_logs"):
        if path.endswith(".exit.json"):
            node = path.rsplit("/", 1)[-1].removesuffix(".exit.json")
            names = json.loads(blobs.get(path)).get("refused_links", ())
            found += [refusal_warning(f"{node}/{name}") for name in names]
    return sorted(found)


def _created(create: Callable[[], None]) -> None:
    """Create something that a previous delivery may have created already."""
    try:
        create()
    except ResourceExistsError:
        pass


def _settled(change: Callable[[], None]) -> None:
    """A change to a job or task that may be gone (404) or already over (409)."""
    try:
        change()
    except (ResourceNotFoundError, ResourceExistsError):
        pass


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
