"""The scoring request parser, fed arbitrary JSON: it answers with arrays or with the
project's own BadRequest, never with anything else; and a valid body of any shape,
in any of the three protocols, parses to the arrays that were sent."""
import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.serving.errors import BadRequest
from shared.serving.payloads import parse_request
from shared.serving.signatures import ModelSignature, TensorSpec
from tests.reliability.ledger import record

EXAMPLES = 300
KEYS = st.sampled_from(["data", "input_data", "inputs", "name", "shape", "datatype",
                        "columns", "outputs", "id", "x", "y", "input"])
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(KEYS | st.text(max_size=4), inner, max_size=4),
                    max_leaves=25)
# Bodies that look like the three protocols, with arbitrary values where they matter.
OIP_ITEM = st.fixed_dictionaries({"name": JSON | st.sampled_from(["x", "y"]),
                                  "shape": JSON, "datatype": JSON | st.sampled_from(
                                      ["FP32", "INT64", "BYTES", "BOOL"]), "data": JSON})
NEAR_MISS = (st.fixed_dictionaries({"inputs": st.lists(OIP_ITEM, max_size=3) | JSON},
                                   optional={"outputs": JSON, "id": JSON})
             | st.fixed_dictionaries({"input_data": JSON | st.fixed_dictionaries(
                 {"data": JSON}, optional={"columns": JSON})})
             | st.fixed_dictionaries({"data": JSON}))
SIGNATURES = st.sampled_from([
    ModelSignature((TensorSpec("x", "FP32", (-1, 3)),), (TensorSpec("y", "INT64", (-1,)),)),
    ModelSignature((TensorSpec("x", "INT64", (-1,)), TensorSpec("y", "BYTES", (-1, 1))),
                   (TensorSpec("out", "FP32", (-1, 2)),)),
    ModelSignature((TensorSpec("x", "BOOL", None),), (TensorSpec("y", "FP64", None),)),
])


class Tally:
    """Examples run and examples that raised something other than BadRequest."""

    def __init__(self) -> None:
        self.runs = self.escaped = 0

    def parse(self, body, sig):
        self.runs += 1
        try:
            return parse_request(body, sig)
        except BadRequest as exc:
            assert str(exc), "a BadRequest must say what is wrong"
            return None
        except Exception:
            self.escaped += 1
            raise


def test_arbitrary_json_is_parsed_or_refused_with_a_bad_request():
    tally = Tally()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(body=JSON | NEAR_MISS, sig=SIGNATURES)
    def parse_anything(body, sig):
        json.dumps(body)  # only what a JSON decoder could have produced
        tally.parse(body, sig)

    try:
        parse_anything()
    finally:
        record("bad input", "arbitrary JSON bodies to the scoring request parser",
               injected=tally.runs, lost=tally.escaped, checked="exception type and message")


DTYPES = {"FP32": (np.float32, st.floats(-1e6, 1e6, width=32)),
          "FP64": (np.float64, st.floats(-1e6, 1e6)),
          "INT64": (np.int64, st.integers(-2**40, 2**40)),
          "INT32": (np.int32, st.integers(-2**31, 2**31 - 1)),
          "BOOL": (np.bool_, st.booleans())}


@st.composite
def valid_requests(draw):
    """A model input of random dtype and rank, a matrix of values that fits it, and a
    body in one of the three protocols carrying them."""
    datatype = draw(st.sampled_from(sorted(DTYPES)))
    dtype, values = DTYPES[datatype]
    dims = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    array = np.array(draw(st.lists(values, min_size=int(np.prod(dims)),
                                   max_size=int(np.prod(dims)))), dtype=dtype).reshape(dims)
    spec = TensorSpec("x", datatype, tuple([-1] + dims[1:]))
    sig = ModelSignature((spec,), (TensorSpec("y", "FP32", (-1,)),))
    protocol = draw(st.sampled_from(["v1", "v2", "v2-named", "oip"]))
    rows = array.tolist()
    body = {"v1": {"data": rows}, "v2": {"input_data": rows},
            "v2-named": {"input_data": {"x": rows}},
            "oip": {"inputs": [{"name": "x", "shape": dims, "datatype": datatype,
                                "data": array.ravel().tolist()}]}}[protocol]
    return json.loads(json.dumps(body)), sig, array


def test_valid_bodies_of_random_shapes_parse_to_the_arrays_sent():
    tally, wrong = Tally(), []

    @settings(max_examples=EXAMPLES, deadline=None, database=None)
    @given(case=valid_requests())
    def parse_valid(case):
        body, sig, array = case
        parsed = tally.parse(body, sig)
        fits = parsed is not None and parsed.feeds["x"].dtype == array.dtype \
            and np.array_equal(parsed.feeds["x"], array)
        if not fits:
            wrong.append(body)
        assert fits, f"{body} parsed to {parsed}"

    try:
        parse_valid()
    finally:
        record("bad input", "valid scoring bodies of random shapes and dtypes (v1, v2, OIP)",
               injected=tally.runs, lost=tally.escaped + len(wrong),
               checked="parsed arrays: dtype, shape, values")
