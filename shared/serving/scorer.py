"""Score requests against ONNX files with onnxruntime, one cached session per file."""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.serving.errors import BadRequest, InvalidModel
from shared.serving.payloads import parse_request
from shared.serving.responses import oip_reply, prediction_list
from shared.serving.samples import sample_feeds
from shared.serving.signatures import ModelSignature, load_session
from shared.serving.tensors import MAX_ROWS


@dataclass
class _Loaded:
    stamp: tuple[int, int]  # (mtime_ns, size): a rewritten file gets a new session
    session: Any
    signature: ModelSignature
    used: int = 0  # when it last served, on the scorer's own clock: the LRU order


class Scorer:
    """Scores JSON requests against ONNX models; safe to share between threads.

    A session is built once per (file, modification time) and reused by every
    request: onnxruntime's `run` may be called from several threads at once, and
    building a session costs far more than one request.

    Parameters
    ----------
    max_rows
        The most rows one request may send.
    max_sessions
        How many sessions stay cached; the least recently used goes first.
    providers
        onnxruntime execution providers; the CPU one when not given.
    """

    def __init__(self, *, max_rows: int = MAX_ROWS, max_sessions: int = 32,
                 providers: list[str] | None = None) -> None:
        self.max_rows = max_rows
        self._max_sessions = max_sessions
        self._providers = providers
        # Read without a lock (a dict lookup is atomic): every request reads it, and a
        # request waiting on a lock loses the GIL to the others. Writers hold _lock.
        self._cache: dict[str, _Loaded] = {}
        self._clock = itertools.count()  # next() is atomic too
        self._lock = threading.Lock()  # guards the writes, never held while loading
        self._loading: dict[str, threading.Lock] = {}

    def score(self, onnx_path: Path, body: Any, *, model_name: str = "",
              model_version: str = "") -> dict | list:
        """Score one request body.

        Returns
        -------
        list | dict
            For Azure ML v1 `{"data": ...}` and v2 `{"input_data": ...}` bodies, the
            first output's values as a list (e.g. the predicted labels); for an Open
            Inference Protocol v2 body, {"model_name", "model_version", "id",
            "outputs": [{"name", "shape", "datatype", "data"}]} with every output
            (or those the request names).

        Raises
        ------
        BadRequest
            The body does not fit the model; the message says how.
        NotFound, InvalidModel
            The ONNX file is missing or cannot be loaded.
        """
        # Path() of a Path re-parses it: ~30 µs a request.
        loaded = self._load(onnx_path if isinstance(onnx_path, Path) else Path(onnx_path))
        request = parse_request(body, loaded.signature, max_rows=self.max_rows)
        names = list(request.output_names or loaded.signature.output_names)
        if request.protocol != "oip":
            names = names[:1]
        outputs = _run(loaded.session, names, request.feeds)
        if request.protocol != "oip":
            return prediction_list(outputs[0])
        return oip_reply(names, outputs, model_name=model_name, model_version=model_version,
                         request_id=request.request_id)

    def health(self, onnx_path: Path) -> None:
        """Load the model and score a generated input.

        Raises
        ------
        NotFound
            No file at onnx_path.
        InvalidModel
            The file cannot be loaded, or fails on the input.
        """
        loaded = self._load(Path(onnx_path))
        try:
            loaded.session.run(None, sample_feeds(loaded.signature))
        except Exception as exc:  # any runtime failure means the model cannot serve
            raise InvalidModel(f"health check of {Path(onnx_path).name} failed: {exc}") from exc

    def signature(self, onnx_path: Path) -> dict:
        """The model's inputs and outputs: {"inputs": [...], "outputs": [...]}, each
        {"name", "datatype" (OIP v2), "shape" (-1 for dynamic)}.

        Raises
        ------
        NotFound, InvalidModel
            The ONNX file is missing or cannot be loaded.
        """
        return self._load(Path(onnx_path)).signature.to_dict()

    def _load(self, path: Path) -> _Loaded:
        # Keyed by the path as given: resolving it costs a syscall per path component on
        # every request, and the stamp alone tells a rewritten file.
        key, stamp = str(path), _stamp(path)
        cached = self._cached(key, stamp)
        if cached is not None:
            return cached
        with self._lock:
            gate = self._loading.setdefault(key, threading.Lock())
        # One loader per file; other files keep being served meanwhile.
        with gate:
            cached = self._cached(key, stamp)
            if cached is not None:
                return cached
            session = load_session(path, self._providers)
            loaded = _Loaded(stamp, session, ModelSignature.from_session(session),
                             next(self._clock))
            with self._lock:
                self._cache[key] = loaded
                while len(self._cache) > self._max_sessions:
                    oldest = min(self._cache, key=lambda k: self._cache[k].used)
                    del self._cache[oldest]
            return loaded

    def _cached(self, key: str, stamp: tuple[int, int]) -> _Loaded | None:
        found = self._cache.get(key)
        if found is None or found.stamp != stamp:
            return None
        found.used = next(self._clock)
        return found


def _stamp(path: Path) -> tuple[int, int]:
    from shared.domain.errors import NotFound

    try:
        stat = path.stat()
    except FileNotFoundError:
        raise NotFound(f"no ONNX model at {path}") from None
    return stat.st_mtime_ns, stat.st_size


def _run(session: Any, names: list[str], feeds: dict) -> list:
    from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument

    try:
        return session.run(names, feeds)
    except InvalidArgument as exc:  # input checks passed, yet the graph refuses the values
        raise BadRequest(f"the model rejected the input: {exc}") from exc
