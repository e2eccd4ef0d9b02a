"""The JSON bodies the Batch REST API (2025-06-01) accepts, for the routes BatchCompute
uses: required and optional properties with their types and enumerations, as the
service documents them and as azure-batch 15 serializes its models. A property the
API does not define is refused, as a misspelt one would be by the service."""
from __future__ import annotations

import re
from typing import Callable

Check = Callable[[object, str], list[str]]
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
_DURATION = re.compile(r"P(?!\Z)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?\Z")


def _typed(kind: type, name: str) -> Check:
    def check(value: object, at: str) -> list[str]:
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        return [] if ok else [f"{at}: expected {name}, got {value!r}"]
    return check


def _matching(pattern: re.Pattern, name: str) -> Check:
    def check(value: object, at: str) -> list[str]:
        ok = isinstance(value, str) and pattern.match(value)
        return [] if ok else [f"{at}: expected {name}, got {value!r}"]
    return check


def _sas(value: object, at: str) -> list[str]:
    """Batch fetches and uploads with the URL alone: it must carry a signature."""
    ok = isinstance(value, str) and value.startswith("https://") and "sig=" in value
    return [] if ok else [f"{at}: expected an https URL with a SAS, got {value!r}"]


def enum(*values: str) -> Check:
    def check(value: object, at: str) -> list[str]:
        return [] if value in values else [f"{at}: {value!r} is not one of {values}"]
    return check


def each(item: Check) -> Check:
    def check(value: object, at: str) -> list[str]:
        if not isinstance(value, list):
            return [f"{at}: expected a list, got {value!r}"]
        return [p for i, v in enumerate(value) for p in item(v, f"{at}[{i}]")]
    return check


def obj(required: dict, optional: dict | None = None,
        rule: Callable[[dict], str] | None = None) -> Check:
    """An object with these properties; `rule` names what breaks a constraint between
    them ("" if nothing does)."""
    optional = optional or {}

    def check(value: object, at: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{at}: expected an object, got {value!r}"]
        problems = [f"{at}.{k}: required" for k in required if k not in value]
        problems += [f"{at}.{k}: not a property of this object" for k in value
                     if k not in required and k not in optional]
        for key, item in {**required, **optional}.items():
            if key in value:
                problems += item(value[key], f"{at}.{key}")
        if not problems and rule is not None and (broken := rule(value)):
            problems.append(f"{at}: {broken}")
        return problems
    return check


def _anything(value: object, at: str) -> list[str]:
    return []


STR, INT, BOOL = _typed(str, "a string"), _typed(int, "an integer"), _typed(bool, "a boolean")
ID, DURATION = _matching(_ID, "a Batch id"), _matching(_DURATION, "an ISO 8601 duration")
NAME_VALUE = obj({"name": STR}, {"value": STR})


def _one_source(file: dict) -> str:
    sources = [k for k in ("httpUrl", "storageContainerUrl", "autoStorageContainerName")
               if k in file]
    if len(sources) != 1:
        return f"exactly one of httpUrl, storageContainerUrl, autoStorageContainerName: {sources}"
    if "httpUrl" in file and "filePath" not in file:
        return "filePath is required with httpUrl"
    if "blobPrefix" in file and "httpUrl" in file:
        return "blobPrefix goes with a container, not with httpUrl"
    return ""


RESOURCE_FILE = obj({}, {"httpUrl": _sas, "storageContainerUrl": _sas,
                         "autoStorageContainerName": STR, "blobPrefix": STR, "filePath": STR,
                         "fileMode": STR, "identityReference": _anything}, rule=_one_source)
USER_IDENTITY = obj({}, {"username": STR, "autoUser": obj({}, {
    "scope": enum("task", "pool"), "elevationLevel": enum("nonadmin", "admin")})})
CONTAINER_SETTINGS = obj({"imageName": STR}, {
    "containerRunOptions": STR, "registry": _anything,
    "workingDirectory": enum("taskWorkingDirectory", "containerImageDefault"),
    "containerHostBatchBindMounts": _anything})


def _image(reference: dict) -> str:
    marketplace = all(k in reference for k in ("publisher", "offer", "sku"))
    return "" if marketplace or "virtualMachineImageId" in reference else (
        "publisher, offer and sku, or an image id")


VM_CONFIGURATION = obj({"imageReference": obj({}, {
    k: STR for k in ("publisher", "offer", "sku", "version", "virtualMachineImageId",
                     "sharedGalleryImageId", "communityGalleryImageId")}, rule=_image),
    "nodeAgentSKUId": STR}, {
    "containerConfiguration": obj({"type": enum("dockerCompatible", "criCompatible")},
                                  {"containerImageNames": each(STR),
                                   "containerRegistries": _anything}),
    **{k: _anything for k in ("windowsConfiguration", "dataDisks", "licenseType",
                              "diskEncryptionConfiguration", "nodePlacementConfiguration",
                              "extensions", "osDisk", "securityProfile",
                              "serviceArtifactReference")}})
START_TASK = obj({"commandLine": STR}, {
    "containerSettings": CONTAINER_SETTINGS, "resourceFiles": each(RESOURCE_FILE),
    "environmentSettings": each(NAME_VALUE), "userIdentity": USER_IDENTITY,
    "maxTaskRetryCount": INT, "waitForSuccess": BOOL})


def _sized_one_way(pool: dict) -> str:
    targets = "targetDedicatedNodes" in pool or "targetLowPriorityNodes" in pool
    return ("targets and autoscale exclude each other"
            if pool.get("enableAutoScale") and targets else "")


POOL_ADD = obj({"id": ID, "vmSize": STR, "virtualMachineConfiguration": VM_CONFIGURATION}, {
    "displayName": STR, "resizeTimeout": DURATION, "targetDedicatedNodes": INT,
    "targetLowPriorityNodes": INT, "enableAutoScale": BOOL, "autoScaleFormula": STR,
    "autoScaleEvaluationInterval": DURATION, "enableInterNodeCommunication": BOOL,
    "startTask": START_TASK, "taskSlotsPerNode": INT, "metadata": each(NAME_VALUE),
    **{k: _anything for k in ("networkConfiguration", "applicationPackageReferences",
                              "taskSchedulingPolicy", "userAccounts", "mountConfiguration",
                              "upgradePolicy", "targetNodeCommunicationMode")}},
    rule=_sized_one_way)
POOL_RESIZE = obj({}, {"targetDedicatedNodes": INT, "targetLowPriorityNodes": INT,
                       "resizeTimeout": DURATION, "nodeDeallocationOption": enum(
                           "requeue", "terminate", "taskcompletion", "retaineddata")})
COMPLETE_MODES = enum("noaction", "terminatejob")
_JOB_COMMON = {"priority": INT, "allowTaskPreemption": BOOL, "maxParallelTasks": INT,
               "constraints": obj({}, {"maxWallClockTime": DURATION,
                                       "maxTaskRetryCount": INT}),
               "onAllTasksComplete": COMPLETE_MODES, "metadata": each(NAME_VALUE),
               "networkConfiguration": _anything}
POOL_INFO = obj({}, {"poolId": ID, "autoPoolSpecification": _anything},
                rule=lambda info: "" if info else "a pool id or an auto pool")
JOB_ADD = obj({"id": ID, "poolInfo": POOL_INFO}, {
    "displayName": STR, "usesTaskDependencies": BOOL, "commonEnvironmentSettings":
    each(NAME_VALUE), "onTaskFailure": enum("noaction", "performexitoptionsjobaction"),
    **{k: _anything for k in ("jobManagerTask", "jobPreparationTask", "jobReleaseTask")},
    **_JOB_COMMON})
JOB_PATCH = obj({}, {"poolInfo": POOL_INFO, **_JOB_COMMON})
OUTPUT_FILE = obj({
    "filePattern": STR,
    "destination": obj({"container": obj({"containerUrl": _sas}, {
        "path": STR, "identityReference": _anything, "uploadHeaders": _anything})}),
    "uploadOptions": obj({"uploadCondition": enum("tasksuccess", "taskfailure",
                                                  "taskcompletion")})})
TASK_ADD = obj({"id": ID, "commandLine": STR}, {
    "displayName": STR, "containerSettings": CONTAINER_SETTINGS,
    "resourceFiles": each(RESOURCE_FILE), "outputFiles": each(OUTPUT_FILE),
    "environmentSettings": each(NAME_VALUE),
    "constraints": obj({}, {"maxWallClockTime": DURATION, "retentionTime": DURATION,
                            "maxTaskRetryCount": INT}),
    "requiredSlots": INT, "userIdentity": USER_IDENTITY,
    "multiInstanceSettings": obj({"coordinationCommandLine": STR}, {
        "numberOfInstances": INT, "commonResourceFiles": each(RESOURCE_FILE)}),
    **{k: _anything for k in ("exitConditions", "affinityInfo", "dependsOn",
                              "applicationPackageReferences")}})
