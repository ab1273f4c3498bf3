"""aiohttp's low-level server as the AWS listener runs it: no request text in any log, AWS error
bodies for the requests aiohttp itself refuses.

aiohttp answers a request it cannot parse (a bad header line, a bad chunk size, a line too
long) before any handler of ours runs: `RequestHandler.handle_error` logs the exception with
its traceback at ERROR on the `aiohttp.server` logger (the exception's text holds the raw
line: an Authorization value with its Signature) and sends a text/plain 400. Here:
- `handle_error` answers AWS's error shape (dispatch.answer: 400 SerializationException "The
  HTTP request could not be parsed (<exception type>).", x-amzn-RequestId, X-Amzn-ErrorType;
  a 5xx is an InternalServiceError) and logs only the exception's type, at INFO for a
  client's malformed request (aiohttp's HttpProcessingError), at ERROR otherwise;
- every other record aiohttp's server writes goes through `TypeOnlyLog`: its fixed message
  and the exception's type, never its arguments, text or traceback.

Both hook aiohttp internals (web.Server.__call__ builds the RequestHandler from `_loop` and
`_kwargs`; `handle_error` is RequestHandler's documented-in-source error path): aiohttp is
pinned exactly in pyproject.toml, and tests/awswire/test_listener_review.py checks both.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from smgrpc.awswire.dispatch import INTERNAL, answer, begin_request
from smgrpc.core.errors import error_kind

log = logging.getLogger("smgrpc.awswire.http")
UNPARSED = "SerializationException"


def _level(exc: object, level: int) -> int:
    """A client's malformed request is INFO, not an error of ours."""
    return min(level, logging.INFO) if isinstance(exc, HttpProcessingError) else level


class TypeOnlyLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp.server's records with their fixed text and the exception's type only."""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        if exc is True:
            exc = sys.exc_info()[1]
        kind = error_kind(exc) if isinstance(exc, BaseException) else "-"
        text = str(msg).replace("%s", "-").replace("%r", "-")[:120]
        self.logger.log(_level(exc, level), "AWS listener (aiohttp): %s [%s]", text, kind)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        return msg, kwargs


class _Handler(RequestHandler):
    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        kind = error_kind(exc) if exc is not None else "-"
        log.log(
            _level(exc, logging.ERROR), "AWS listener: HTTP request refused by aiohttp [%s]", kind
        )
        if request.writer.output_size > 0:  # as aiohttp: a response was begun, cannot answer
            raise ConnectionError("response already begun")
        rid = begin_request()
        if status >= 500:
            code, text = INTERNAL, f"InternalServiceError (request id {rid})"
        else:
            code, text = UNPARSED, f"The HTTP request could not be parsed ({kind})."
        status, headers, body = answer(status, code, text, rid)
        response = web.Response(status=status, headers=headers, body=body)
        response.force_close()
        return response


class AwsServer(web.Server):
    """web.Server whose connections use _Handler, logging through TypeOnlyLog."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        kwargs.setdefault("logger", TypeOnlyLog(log, {}))
        super().__init__(handler, **kwargs)

    def __call__(self) -> RequestHandler:
        return _Handler(self, loop=self._loop, **self._kwargs)
