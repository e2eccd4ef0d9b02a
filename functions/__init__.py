"""Thin Azure Functions bindings: parse the trigger, call shared/, return."""
