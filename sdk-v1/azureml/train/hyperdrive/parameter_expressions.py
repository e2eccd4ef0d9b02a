"""The distributions of a HyperDrive search space, as v1 writes them: each function
returns v1's expression, `[kind, [arguments]]`, which a sampling turns into the Azure ML
v2 search space entry of that kind (`{type: uniform, min_value, max_value}`...)."""
from __future__ import annotations

import numbers
from typing import Any

from azureml.train.hyperdrive.exceptions import HyperDriveConfigException

# kind -> the v2 fields its arguments are, in v1's order
FIELDS = {
    "choice": ("values",),
    "randint": ("upper",),
    "uniform": ("min_value", "max_value"),
    "quniform": ("min_value", "max_value", "q"),
    "loguniform": ("min_value", "max_value"),
    "qloguniform": ("min_value", "max_value", "q"),
    "normal": ("mu", "sigma"),
    "qnormal": ("mu", "sigma", "q"),
    "lognormal": ("mu", "sigma"),
    "qlognormal": ("mu", "sigma", "q"),
}


def choice(*options: Any) -> list:
    """One of options: `choice(16, 32, 64)`, or one list or range of them."""
    if len(options) == 1 and isinstance(options[0], (list, tuple, range)):
        options = tuple(options[0])
    if not options:
        raise HyperDriveConfigException("choice needs at least one option")
    for option in options:
        if not isinstance(option, (str, numbers.Real)):
            raise HyperDriveConfigException(f"choice: option {option!r} is not a number or a "
                                            "string")
    return ["choice", [[o if isinstance(o, str) else _plain(o) for o in options]]]


def randint(upper: int) -> list:
    """A whole number in [0, upper)."""
    return ["randint", [_number("randint", "upper", upper)]]


def uniform(min_value: float, max_value: float) -> list:
    """A number uniformly distributed between min_value and max_value."""
    return ["uniform", _numbers("uniform", min_value=min_value, max_value=max_value)]


def quniform(min_value: float, max_value: float, q: float) -> list:
    """round(uniform(min_value, max_value) / q) * q."""
    return ["quniform", _numbers("quniform", min_value=min_value, max_value=max_value, q=q)]


def loguniform(min_value: float, max_value: float) -> list:
    """exp(uniform(min_value, max_value)): between exp(min_value) and exp(max_value)."""
    return ["loguniform", _numbers("loguniform", min_value=min_value, max_value=max_value)]


def qloguniform(min_value: float, max_value: float, q: float) -> list:
    """round(exp(uniform(min_value, max_value)) / q) * q."""
    return ["qloguniform", _numbers("qloguniform", min_value=min_value, max_value=max_value,
                                    q=q)]


def normal(mu: float, sigma: float) -> list:
    """A number normally distributed with mean mu and standard deviation sigma."""
    return ["normal", _numbers("normal", mu=mu, sigma=sigma)]


def qnormal(mu: float, sigma: float, q: float) -> list:
    """round(normal(mu, sigma) / q) * q."""
    return ["qnormal", _numbers("qnormal", mu=mu, sigma=sigma, q=q)]


def lognormal(mu: float, sigma: float) -> list:
    """exp(normal(mu, sigma)): a positive number whose logarithm is normal."""
    return ["lognormal", _numbers("lognormal", mu=mu, sigma=sigma)]


def qlognormal(mu: float, sigma: float, q: float) -> list:
    """round(exp(normal(mu, sigma)) / q) * q."""
    return ["qlognormal", _numbers("qlognormal", mu=mu, sigma=sigma, q=q)]


def to_search_space_entry(name: str, expression: Any) -> dict:
    """The v2 search space entry of a v1 expression (`["uniform", [0, 1]]` ->
    `{"type": "uniform", "min_value": 0, "max_value": 1}`).

    Raises:
        HyperDriveConfigException: not an expression these functions make.
    """
    if (not isinstance(expression, (list, tuple)) or len(expression) != 2
            or expression[0] not in FIELDS or not isinstance(expression[1], (list, tuple))
            or len(expression[1]) != len(FIELDS[expression[0]])):
        raise HyperDriveConfigException(
            f"parameter {name!r}: {expression!r} is not a parameter expression; use "
            "choice, uniform, loguniform, normal... of azureml.train.hyperdrive")
    kind, arguments = expression
    return {"type": kind, **dict(zip(FIELDS[kind], arguments, strict=True))}


def _number(kind: str, field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise HyperDriveConfigException(f"{kind}: {field} must be a number, not {value!r}")
    return _plain(value)


def _plain(value: numbers.Real) -> int | float | bool:
    """Python's own number for a numpy one, which a YAML spec cannot hold."""
    if isinstance(value, bool):
        return value
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _numbers(kind: str, **values: Any) -> list:
    return [_number(kind, field, value) for field, value in values.items()]
