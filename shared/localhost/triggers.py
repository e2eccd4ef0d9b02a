"""Reading the FunctionApp's registered triggers: the local host wires nothing itself."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Trigger:
    kind: str  # serviceBusTrigger | blobTrigger | httpTrigger | timerTrigger
    name: str
    function: Callable
    arg_name: str
    queue: str = ""
    path: str = ""
    route: str = ""
    methods: tuple[str, ...] = ()
    auth_level: str = "function"
    schedule: str = ""
    run_on_startup: bool = False
    pattern: re.Pattern | None = field(default=None, compare=False)


def read_triggers(app) -> list[Trigger]:
    """The app's triggers. azure-functions indexes an app once (a second get_functions()
    call reports every name as a duplicate), so the result is kept on the app."""
    cached = getattr(app, "_mlcycle_triggers", None)
    if cached is None:
        cached = _read(app)
        app._mlcycle_triggers = cached
    return cached


def _read(app) -> list[Trigger]:
    triggers = []
    for fn in app.get_functions():
        spec = fn.get_trigger().get_dict_repr()
        kind = spec["type"]
        common = dict(kind=kind, name=fn.get_function_name(), function=fn.get_user_function(),
                      arg_name=spec["name"])
        if kind == "serviceBusTrigger":
            triggers.append(Trigger(**common, queue=spec["queueName"]))
        elif kind == "blobTrigger":
            triggers.append(Trigger(**common, path=spec["path"]))
        elif kind == "httpTrigger":
            route = spec.get("route") or fn.get_function_name()
            methods = tuple(_value(m) for m in spec.get("methods") or ("GET", "POST"))
            triggers.append(Trigger(**common, route=route, methods=methods,
                                    auth_level=_value(spec.get("authLevel", "function")),
                                    pattern=route_pattern(route)))
        elif kind == "timerTrigger":
            triggers.append(Trigger(**common, schedule=spec["schedule"],
                                    run_on_startup=bool(spec.get("runOnStartup"))))
        else:
            raise ValueError(f"the local host cannot drive a {kind} trigger ({common['name']})")
    return triggers


def _value(enum_or_str) -> str:
    return str(getattr(enum_or_str, "value", enum_or_str))


def route_pattern(route: str, *, ignore_case: bool = False,
                  empty_rest: bool = False) -> re.Pattern:
    """Functions route templates: {name} is one path segment, {*name} the rest (which
    may be empty with empty_rest). ignore_case: the fixed words match in any case, as
    ARM's do."""
    regex = ""
    for part in re.split(r"(\{\*?\w+\})", route.strip("/")):
        if part.startswith("{*"):
            regex += f"(?P<{part[2:-1]}>{'.*' if empty_rest else '.+'})"
        elif part.startswith("{"):
            regex += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$", re.IGNORECASE if ignore_case else 0)


def interval_of(schedule: str) -> float:
    """Seconds between runs of an NCRONTAB schedule of the `*/N` kind (seconds first,
    as Functions writes them); other schedules run every minute locally."""
    fields = schedule.split()
    units = [1, 60, 3600]
    for value, unit in zip(fields, units):
        if value.startswith("*/") and value[2:].isdigit():
            return float(value[2:]) * unit
    return 60.0
