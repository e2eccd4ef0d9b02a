"""The HTTP triggers' routes, compiled once into a table keyed by each route's first
fixed segment: a request is tried against the few routes that can match it, in the
order the app registered them, instead of against every route's pattern."""
from __future__ import annotations

from urllib.parse import unquote

from shared.localhost.triggers import Trigger


class RouteTable:
    def __init__(self, routes: list[Trigger]) -> None:
        indexed = list(enumerate(routes))
        # A route that starts with a parameter ({name}, {*rest}) may match any path.
        anywhere = [(i, t) for i, t in indexed if _head(t.route) is None]
        heads = {_head(t.route) for t in routes} - {None}
        # Per first segment, its own routes and the parameter-led ones, in the app's
        # order: the first route that matches wins, as before the table.
        self._by_head = {
            head: [t for _, t in sorted([(i, t) for i, t in indexed
                                         if _head(t.route) == head] + anywhere,
                                        key=lambda pair: pair[0])]
            for head in heads}
        self._anywhere = [t for _, t in anywhere]

    def match(self, path: str, method: str):
        """(trigger, route parameters, percent-decoded) for path (without the /api/
        prefix); "method" when a route matches but not for this method; else None."""
        path = path.strip("/")
        head = path.split("/", 1)[0]
        wrong_method = False
        for trigger in self._by_head.get(head, self._anywhere):
            m = trigger.pattern.match(path)
            if m is None:
                continue
            if method.upper() not in trigger.methods:
                wrong_method = True
                continue
            # The Functions host hands route parameters over percent-decoded.
            return trigger, {k: unquote(v) for k, v in m.groupdict().items()}
        return "method" if wrong_method else None


def _head(route: str) -> str | None:
    first = route.strip("/").split("/", 1)[0]
    return None if "{" in first else first
