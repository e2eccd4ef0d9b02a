"""An HTTP-level fake of the Azure Batch REST API: an azure-core transport that the real
azure-batch SDK sends its requests through (`BatchClient(..., transport=FakeBatch())`).

It answers the routes BatchCompute uses. Each request must carry the api-version the
SDK speaks, a bearer token and, for a body, Batch's JSON content type; each body must
have the shape batch_shapes describes. A request that does not is answered 400 with
Batch's error body, so the SDK raises with the reason. Time moves with the calls:
a pool that is resizing is steady at the next look, a task that is active runs at the
next look once its pool has the nodes, and a running task completes at the next look
with the exit code and files the test said its node would leave, uploading them as the
task's output files say.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from azure.core.pipeline.transport import HttpTransport

from tests.fakes import batch_shapes as shapes
from tests.fakes.batch_http import (BatchError, Call, as_bytes, json_body, matches, now,
                                    response)

API_VERSION = "2025-06-01"
JSON = "application/json; odata=minimalmetadata"


@dataclass
class Outcome:
    """How a task ends: its exit code (None: it never ran), the files its node leaves
    (paths relative to the task's working folder), and Batch's failure info."""

    exit_code: int | None = 0
    files: dict | None = None
    failure: dict | None = None


class FakeBatch(HttpTransport):
    def __init__(self, *, blobs=None, token: str = "fake-token") -> None:
        self.blobs = blobs  # the store output files are uploaded to (a SasBlobStore)
        self.token = token
        self.pools: dict[str, dict] = {}
        self.jobs: dict[str, dict] = {}
        self.tasks: dict[str, dict] = {}  # by job id: one task per job is all mlcycle adds
        self.outcomes: dict[str, Outcome] = {}
        self.calls: list[Call] = []
        self._lock = threading.Lock()  # the SDK's resize poller calls from its own thread
        self._routes = [
            ("POST", r"/pools", self._add_pool), ("GET", r"/pools/(?P<pool>[^/]+)", self._pool),
            ("POST", r"/pools/(?P<pool>[^/]+)/resize", self._resize),
            ("POST", r"/jobs", self._add_job), ("GET", r"/jobs", self._list_jobs),
            ("GET", r"/jobs/(?P<job>[^/]+)", self._job),
            ("PATCH", r"/jobs/(?P<job>[^/]+)", self._patch_job),
            ("POST", r"/jobs/(?P<job>[^/]+)/tasks", self._add_task),
            ("GET", r"/jobs/(?P<job>[^/]+)/tasks/(?P<task>[^/]+)", self._task),
            ("POST", r"/jobs/(?P<job>[^/]+)/tasks/(?P<task>[^/]+)/terminate", self._terminate),
            ("GET", r"/jobs/(?P<job>[^/]+)/tasks/(?P<task>[^/]+)/subtasksinfo", self._subtasks),
            ("GET", r"/jobs/(?P<job>[^/]+)/tasks/(?P<task>[^/]+)/files/(?P<file>.+)",
             self._file)]

    # --- what tests ask ----------------------------------------------------------------

    def ends(self, job_id: str, exit_code: int | None = 0, files: dict | None = None,
             failure: dict | None = None) -> None:
        """Say how the job's task will end."""
        self.outcomes[job_id] = Outcome(exit_code, files, failure)

    def bodies(self, method: str, path: str) -> list[dict | None]:
        return [c.body for c in self.calls if (c.method, c.path) == (method, path)]

    # --- the transport -----------------------------------------------------------------

    def open(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self): return self
    def __exit__(self, *args) -> None: ...

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = json_body(request)
        with self._lock:
            self.calls.append(Call(request.method, unquote(url.path), query, body))
            try:
                self._check_envelope(request, query, body)
                status, answer, headers = self._route(request.method, url.path, query,
                                                      body, request.headers)
            except BatchError as error:
                status, headers = error.status, {}
                answer = {"code": error.code, "message": {"lang": "en-US",
                                                          "value": str(error)}}
        return response(request, status, answer, headers, kwargs.get("stream", False))

    def _check_envelope(self, request, query: dict, body) -> None:
        if query.get("api-version") != API_VERSION:
            raise BatchError(400, "MissingRequiredQueryParameter",
                             f"api-version must be {API_VERSION}, not {query.get('api-version')}")
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise BatchError(401, "AuthenticationFailed", "no valid bearer token")
        if body is not None and request.headers.get("Content-Type") != JSON:
            raise BatchError(400, "InvalidHeaderValue",
                             f"content type {request.headers.get('Content-Type')!r}")

    def _route(self, method: str, path: str, query: dict, body, headers) -> tuple:
        for verb, pattern, handler in self._routes:
            found = re.fullmatch(pattern, path)
            if verb == method and found:
                args = {k: unquote(v) for k, v in found.groupdict().items()}
                return handler(query=query, body=body, headers=headers, **args)
        raise BatchError(400, "InvalidUri", f"the fake has no route {method} {path}")

    # --- pools -------------------------------------------------------------------------

    def _add_pool(self, body, **_) -> tuple:
        _valid(shapes.POOL_ADD, body)
        if body["id"] in self.pools:
            raise BatchError(409, "PoolExists", "The specified pool already exists.")
        self.pools[body["id"]] = {**body, "state": "active", "currentDedicatedNodes": 0,
                                  "currentLowPriorityNodes": 0,
                                  "allocationState": "resizing" if _targets(body) != (0, 0)
                                  else "steady"}
        return 201, None, {}

    def _pool(self, pool, **_) -> tuple:
        found = self._known_pool(pool)
        answer = dict(found)
        self._allocate(found)  # what the caller sees now; the nodes are there next time
        return 200, answer, {}

    def _resize(self, pool, body, **_) -> tuple:
        _valid(shapes.POOL_RESIZE, body)
        found = self._known_pool(pool)
        if found["allocationState"] != "steady":
            raise BatchError(409, "PoolNotSteady", "The pool is not in a steady state.")
        found.update({k: body[k] for k in ("targetDedicatedNodes", "targetLowPriorityNodes")
                      if k in body}, allocationState="resizing")
        return 202, None, {}

    def _known_pool(self, pool: str) -> dict:
        if pool not in self.pools:
            raise BatchError(404, "PoolNotFound", "The specified pool does not exist.")
        return self.pools[pool]

    @staticmethod
    def _allocate(pool: dict) -> None:
        if pool["allocationState"] == "resizing":
            dedicated, low = _targets(pool)
            pool.update(allocationState="steady", currentDedicatedNodes=dedicated,
                        currentLowPriorityNodes=low)

    # --- jobs --------------------------------------------------------------------------

    def _add_job(self, body, **_) -> tuple:
        _valid(shapes.JOB_ADD, body)
        if body["id"] in self.jobs:
            raise BatchError(409, "JobExists", "The specified job already exists.")
        self.jobs[body["id"]] = {**body, "state": "active",
                                 "onAllTasksComplete": body.get("onAllTasksComplete",
                                                                "noaction")}
        return 201, None, {}

    def _list_jobs(self, query, **_) -> tuple:
        if query.get("$filter") not in (None, "state eq 'active'"):
            raise BatchError(400, "InvalidQueryParameterValue", "the fake filters on state")
        wanted = [j for j in self.jobs.values()
                  if "$filter" not in query or j["state"] == "active"]
        return 200, {"value": wanted}, {}

    def _job(self, job, **_) -> tuple:
        return 200, self._known_job(job), {}

    def _patch_job(self, job, body, **_) -> tuple:
        _valid(shapes.JOB_PATCH, body)
        found = self._known_job(job)
        if found["state"] == "completed":
            raise BatchError(409, "JobCompleted", "The specified job is already completed.")
        if found["onAllTasksComplete"] == "terminatejob" and \
                body.get("onAllTasksComplete") == "noaction":
            raise BatchError(400, "InvalidPropertyValue", "terminatejob cannot be undone")
        found.update(body)
        self._end_job_if_done(job)
        return 200, None, {}

    def _known_job(self, job: str) -> dict:
        if job not in self.jobs:
            raise BatchError(404, "JobNotFound", "The specified job does not exist.")
        return self.jobs[job]

    def _end_job_if_done(self, job: str) -> None:
        # Batch counts a job without tasks as one whose tasks have all completed.
        found = self.jobs[job]
        task = self.tasks.get(job)
        if found["onAllTasksComplete"] == "terminatejob" and (
                task is None or task["state"] == "completed"):
            found["state"] = "completed"

    # --- tasks -------------------------------------------------------------------------

    def _add_task(self, job, body, **_) -> tuple:
        _valid(shapes.TASK_ADD, body)
        found = self._known_job(job)
        if found["state"] != "active":
            raise BatchError(409, "JobCompleted", "The specified job is already completed.")
        if job in self.tasks:
            raise BatchError(409, "TaskExists", "The specified task already exists.")
        instances = body.get("multiInstanceSettings", {}).get("numberOfInstances", 1)
        pool = self.pools.get(found["poolInfo"].get("poolId"), {})
        if instances > 1 and not pool.get("enableInterNodeCommunication"):
            raise BatchError(400, "InvalidPropertyValue", "a multi-instance task needs a pool "
                             "with inter-node communication")
        self.tasks[job] = {**body, "state": "active", "executionInfo": {
            "retryCount": 0, "requeueCount": 0}}
        return 201, None, {}

    def _task(self, job, task, **_) -> tuple:
        found = self._known_task(job, task)
        answer = json.loads(json.dumps(found))
        self._advance(job, found)
        return 200, answer, {}

    def _advance(self, job: str, task: dict) -> None:
        pool = self.pools.get(self.jobs[job]["poolInfo"].get("poolId"))
        if task["state"] == "active" and pool is not None:
            self._allocate(pool)  # the nodes come while the task waits for them
            nodes = pool["currentDedicatedNodes"] + pool["currentLowPriorityNodes"]
            if nodes >= task.get("multiInstanceSettings", {}).get("numberOfInstances", 1):
                task["state"] = "running"
                task["executionInfo"]["startTime"] = now()
        elif task["state"] == "running":
            self._complete(job, task, self.outcomes.get(job, Outcome()))

    def _complete(self, job: str, task: dict, outcome: Outcome) -> None:
        info = task["executionInfo"]
        info.update(endTime=now(), result="success" if outcome.exit_code == 0 and
                    not outcome.failure else "failure")
        info.setdefault("startTime", info["endTime"])
        if outcome.exit_code is not None:
            info["exitCode"] = outcome.exit_code
        if outcome.failure:
            info["failureInfo"] = outcome.failure
        task["state"] = "completed"
        self._upload_outputs(task, outcome.files or {})
        self._end_job_if_done(job)

    def _upload_outputs(self, task: dict, files: dict) -> None:
        """Batch uploads the output files when the task completes (uploadCondition
        taskcompletion: whatever the exit code)."""
        for output in task.get("outputFiles", []):
            url = output["destination"]["container"]["containerUrl"]
            if "w" not in parse_qs(urlsplit(url).query).get("sp", [""])[0]:
                raise AssertionError(f"output container URL cannot write: {url}")
            container = urlsplit(url).path.strip("/")
            prefix = output["destination"]["container"].get("path", "")
            for name, rest in matches(output["filePattern"], files):
                self.blobs.put(f"{container}/{prefix}/{rest}" if rest is not None
                               else f"{container}/{prefix}", as_bytes(files[name]))

    def _terminate(self, job, task, **_) -> tuple:
        found = self._known_task(job, task)
        if found["state"] == "completed":
            raise BatchError(409, "TaskCompleted", "The specified task is already completed.")
        ended = self.outcomes.get(job, Outcome())
        self._complete(job, found, Outcome(None, ended.files, {
            "category": "usererror", "code": "TaskEnded",
            "message": "Task Was Ended by User Request"}))
        return 204, None, {}

    def _subtasks(self, job, task, **_) -> tuple:
        found = self._known_task(job, task)
        count = found.get("multiInstanceSettings", {}).get("numberOfInstances", 1)
        return 200, {"value": [{"id": i, "state": found["state"]} for i in range(1, count)]}, {}

    def _file(self, job, task, file, headers, **_) -> tuple:
        """A file of the task's folder (wd/ is its working folder), while it runs and
        after; ocp-range asks for the bytes from an offset."""
        found = self._known_task(job, task)
        files = (self.outcomes.get(job) or Outcome()).files or {}
        name = file.removeprefix("wd/")
        if found["state"] == "active" or not file.startswith("wd/") or name not in files:
            raise BatchError(404, "FileNotFound", "The specified file does not exist.")
        content = as_bytes(files[name])
        start = int(re.fullmatch(r"bytes=(\d+)-", headers.get("ocp-range", "bytes=0-"))[1])
        if 0 < len(content) <= start or (start and not content):
            raise BatchError(416, "InvalidRange", "The range is not satisfiable.")
        return 200, content[start:], {}

    def _known_task(self, job: str, task: str) -> dict:
        self._known_job(job)
        if job not in self.tasks or self.tasks[job]["id"] != task:
            raise BatchError(404, "TaskNotFound", "The specified task does not exist.")
        return self.tasks[job]


def _valid(shape, body) -> None:
    problems = shape(body, "body")
    if problems:
        raise BatchError(400, "InvalidRequestBody", "; ".join(problems))


def _targets(pool: dict) -> tuple[int, int]:
    return pool.get("targetDedicatedNodes", 0), pool.get("targetLowPriorityNodes", 0)
