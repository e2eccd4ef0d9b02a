"""How a HyperDrive run samples its search space: v1's RandomParameterSampling,
GridParameterSampling and BayesianParameterSampling, each the `sampling_algorithm` and
`search_space` of an Azure ML v2 sweep job.

A v1 parameter is named as its script argument: `"--learning_rate"` is passed as
`--learning_rate <value>`, and a plain `"learning_rate"` as `--learning_rate <value>`
too, as v1 passes them. In the sweep job each is a search space entry named by an
identifier (`learning_rate`; other characters become `_`), which the trial's command
takes as `${{search_space.learning_rate}}`."""
from __future__ import annotations

import re
import warnings
from typing import Any

from azureml.train.hyperdrive.exceptions import HyperDriveConfigException
from azureml.train.hyperdrive.parameter_expressions import to_search_space_entry

_RANDOM_PROPERTIES = ("seed", "rule")


class HyperParameterSampling:
    """A search space ({parameter name: expression}) and how it is sampled.

    Raises:
        HyperDriveConfigException: an empty space, a value that is not a parameter
            expression, or two names that are one identifier in the sweep job.
    """

    SAMPLING_NAME = ""
    _KINDS: tuple[str, ...] | None = None  # the expressions this sampling takes (None: all)

    def __init__(self, sampling_method_name: str, parameter_space: dict,
                 properties: dict | None = None, supported_distributions: Any = None) -> None:
        if not isinstance(parameter_space, dict) or not parameter_space:
            raise HyperDriveConfigException(
                f"{type(self).__name__} needs a parameter_space: a dict of parameter names "
                "and their distributions (choice, uniform...)")
        self._sampling_method_name = sampling_method_name
        self._parameter_space = dict(parameter_space)
        self._properties = dict(properties or {})
        self._entries = {key: to_search_space_entry(key, value)
                         for key, value in self._parameter_space.items()}
        if self._KINDS is not None:
            for key, entry in self._entries.items():
                if entry["type"] not in self._KINDS:
                    raise HyperDriveConfigException(
                        f"{type(self).__name__} takes only {', '.join(self._KINDS)} "
                        f"parameters; {key!r} is {entry['type']}")
        self._names = identifiers(list(self._parameter_space))

    @property
    def parameter_space(self) -> dict:
        """The search space as given."""
        return dict(self._parameter_space)

    @property
    def properties(self) -> dict:
        """The sampling's extra properties."""
        return dict(self._properties)

    def to_json(self) -> dict:
        """The sampling as v1 serialised it: its name, space and properties."""
        return {"name": self._sampling_method_name, "parameter_space": self._parameter_space,
                "properties": self._properties}

    def _search_space(self) -> dict:
        """The sweep job's search_space: {identifier: entry}."""
        return {self._names[key]: entry for key, entry in self._entries.items()}

    def _algorithm(self) -> dict:
        """The sweep job's sampling_algorithm."""
        return {"type": self._sampling_method_name.lower()}


class RandomParameterSampling(HyperParameterSampling):
    """Random points of the space; every expression is allowed.

    Parameters:
        parameter_space: {name: expression}.
        properties: `seed` (a whole number, for repeatable points) and `rule`
            ("random" or "sobol"), as the v2 sweep job's random sampling takes them;
            other properties are ignored with a warning.
    """

    SAMPLING_NAME = "RANDOM"

    def __init__(self, parameter_space: dict, properties: dict | None = None) -> None:
        unknown = sorted(set(properties or {}) - set(_RANDOM_PROPERTIES))
        if unknown:
            warnings.warn(f"RandomParameterSampling: properties {', '.join(unknown)} have no "
                          f"meaning on mlcycle (it reads {', '.join(_RANDOM_PROPERTIES)})",
                          UserWarning, stacklevel=2)
        super().__init__(self.SAMPLING_NAME, parameter_space, properties=properties)

    def _algorithm(self) -> dict:
        return {"type": "random", **{k: self._properties[k] for k in _RANDOM_PROPERTIES
                                     if self._properties.get(k) is not None}}


class GridParameterSampling(HyperParameterSampling):
    """Every point of a space of choice parameters, once each."""

    SAMPLING_NAME = "GRID"
    _KINDS = ("choice",)

    def __init__(self, parameter_space: dict) -> None:
        super().__init__(self.SAMPLING_NAME, parameter_space)


class BayesianParameterSampling(HyperParameterSampling):
    """Points chosen from what the trials before found (mlcycle uses Optuna's TPE); no
    early termination policy goes with it, as in v1. It takes choice, uniform and
    quniform parameters, as v1's does, and loguniform and randint (mlcycle's sweeps
    refuse the others when the run is submitted)."""

    SAMPLING_NAME = "BAYESIANOPTIMIZATION"

    def __init__(self, parameter_space: dict) -> None:
        super().__init__(self.SAMPLING_NAME, parameter_space)

    def _algorithm(self) -> dict:
        return {"type": "bayesian"}


def flag(key: str) -> str:
    """The script argument a parameter is passed as (`--lr` for "--lr" and "lr")."""
    return key if key.startswith("-") else f"--{key}"


def identifiers(keys: list[str]) -> dict[str, str]:
    """{v1 name: the identifier that names it in the sweep job}.

    Raises:
        HyperDriveConfigException: a name with nothing but dashes, or two that become
            one identifier.
    """
    names: dict[str, str] = {}
    for key in keys:
        if not isinstance(key, str) or not key.lstrip("-"):
            raise HyperDriveConfigException(f"parameter name {key!r} is not a name")
        name = re.sub(r"[^A-Za-z0-9_]", "_", key.lstrip("-"))
        name = f"_{name}" if name[0].isdigit() else name
        if clash := [k for k, n in names.items() if n == name]:
            raise HyperDriveConfigException(
                f"parameters {clash[0]!r} and {key!r} are both named {name!r} in the "
                "sweep job; rename one")
        names[key] = name
    return names
