"""The local server's route table: a request is tried against the routes that can match
its first segment, and the answer is the one the app's registration order gives."""

from shared.localhost.routes import RouteTable
from shared.localhost.triggers import Trigger, route_pattern


def trigger(name: str, route: str, *methods: str) -> Trigger:
    return Trigger("httpTrigger", name, lambda req: None, "req", route=route,
                   methods=methods or ("GET",), pattern=route_pattern(route))


TABLE = RouteTable([
    trigger("jobs", "jobs"),
    trigger("job", "jobs/{name}"),
    trigger("job_sweeps", "jobs/sweeps"),  # after jobs/{name}: that one wins
    trigger("cancel", "jobs/{name}/cancel", "POST"),
    trigger("anything", "{kind}/list"),  # led by a parameter: may match any head
    trigger("storage", "storage/{*path}", "GET", "PUT"),
    trigger("late_list", "models/list"),  # after {kind}/list: never reached
])


def name_of(found):
    return found[0].name if isinstance(found, tuple) else found


def test_the_first_registered_route_that_matches_wins():
    assert name_of(TABLE.match("jobs", "GET")) == "jobs"
    assert name_of(TABLE.match("jobs/sweeps", "GET")) == "job"
    assert name_of(TABLE.match("models/list", "GET")) == "anything"
    assert name_of(TABLE.match("widgets/list", "GET")) == "anything"


def test_route_parameters_come_percent_decoded():
    trig, params = TABLE.match("/jobs/a%20b%2Fc/cancel/", "POST")
    assert trig.name == "cancel" and params == {"name": "a b/c"}
    assert TABLE.match("storage/c/d/e.txt", "PUT")[1] == {"path": "c/d/e.txt"}


def test_a_known_path_with_another_method_is_told_apart_from_an_unknown_one():
    assert TABLE.match("jobs/x/cancel", "GET") == "method"
    assert TABLE.match("jobs/x/y/z", "GET") is None
    assert TABLE.match("nosuch", "GET") is None
    assert TABLE.match("", "GET") is None


def test_the_table_gives_what_trying_every_route_in_order_gives():
    import function_app
    from shared.localhost.triggers import read_triggers

    routes = [t for t in read_triggers(function_app.app) if t.kind == "httpTrigger"]
    table = RouteTable(routes)
    paths = ["jobs", "jobs/x", "jobs/x/cancel", "endpoints/e/score", "models/m/versions/1",
             "health", "openapi.json", "studio/runs/r", "studio", "snapshots",
             "storage/a/b", "subscriptions/s/resourceGroups/g", "nosuch/x", ""]
    for path in paths:
        for method in ("GET", "POST", "PUT", "DELETE"):
            expected = None
            wrong = False
            for t in routes:
                m = t.pattern.match(path.strip("/"))
                if m is None:
                    continue
                if method not in t.methods:
                    wrong = True
                    continue
                expected = t.name
                break
            expected = expected or ("method" if wrong else None)
            assert name_of(table.match(path, method)) == expected, (path, method)
