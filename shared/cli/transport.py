"""urllib handlers that still read the server's answer when it refuses a body unread.

A server that will not take a body (413: over its upload limit) answers at once and
closes the connection. A client still sending then fails with a broken pipe, and urllib
reports that alone, although the answer, naming the limit, is waiting to be read. These
connections stop sending at the broken pipe and read the answer instead.
"""
from __future__ import annotations

import functools
import http.client
import urllib.request


class _ReadsAnswerAfterRefusal:
    """Mixed into an http.client connection class."""

    _broken: OSError | None = None

    def send(self, data) -> None:
        if self._broken is not None:
            return  # the server has stopped reading: the rest would break the same way
        try:
            super().send(data)
        except (BrokenPipeError, ConnectionResetError) as exc:
            self._broken = exc

    def getresponse(self) -> http.client.HTTPResponse:
        try:
            return super().getresponse()
        except (http.client.HTTPException, OSError):
            if self._broken is None:
                raise
            raise self._broken from None  # no answer came: the broken send is the news


@functools.cache
def _answering(connection_class: type) -> type:
    return type(f"Answering{connection_class.__name__}",
                (_ReadsAnswerAfterRefusal, connection_class), {})


class HTTPHandler(urllib.request.HTTPHandler):
    """urllib's handler of http:// URLs, on connections that read a refusal's answer."""

    def do_open(self, http_class, req, **kwargs):
        return super().do_open(_answering(http_class), req, **kwargs)


class HTTPSHandler(urllib.request.HTTPSHandler):
    """urllib's handler of https:// URLs, likewise."""

    def do_open(self, http_class, req, **kwargs):
        return super().do_open(_answering(http_class), req, **kwargs)


def handlers() -> list[urllib.request.BaseHandler]:
    """To pass to urllib.request.build_opener: they take the default handlers' place."""
    return [HTTPHandler(), HTTPSHandler()]
