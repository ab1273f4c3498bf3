"""Hosting a rotation function: a grpc.aio server for smgrpc.rotation.v1.RotationFunction/Invoke.

A function is an object with four async methods, one per step (`Handler`). `FunctionServer`
serves it: every Invoke first runs AWS's check of the secret's stages (`check_stage`, what
every AWS rotation template does before its step), then the step; a failure becomes a non-OK
status whose message is safe to log (StepFailed carries its own code and message; the callback
client's errors keep the endpoint's transient codes so the Region retries them; anything
unexpected is INTERNAL naming only the exception's type). Secret values and the function's
credential never appear in a status message or a log line.

`SecretsApi` is the callback client to the smgrpc public API (smgrpc.secretsmanager.v1), sending
`authorization: Bearer <AccessKeyId>:<SecretAccessKey>` read from a credentials file in the
admin token file's format (auth/token_file.py: one line, mode 0600), over TLS when a CA file is
given. The contract itself is documented in protos/smgrpc/rotation/v1/rotation.proto.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from smgrpc._pb.rotation.v1 import rotation_pb2 as rpb
from smgrpc._pb.rotation.v1 import rotation_pb2_grpc as rpbg
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from smgrpc.auth.bearer import AccessKeyCredential
from smgrpc.auth.token_file import read_admin_token
from smgrpc.core.net import is_loopback

log = logging.getLogger("smgrpc.rotators")

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
STEPS = {
    "createSecret": "create_secret",
    "setSecret": "set_secret",
    "testSecret": "test_secret",
    "finishSecret": "finish_secret",
}
# The codes the Region retries within a step's deadline (rotation.proto).
TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
    }
)
_REFUSED = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})


class FunctionConfigError(Exception):
    """A rotation function's settings are unusable (message names no secret)."""


class StepFailed(Exception):
    """Fail the step with this status. The message is logged on both sides: no secret text."""

    def __init__(
        self, message: str, code: grpc.StatusCode = grpc.StatusCode.FAILED_PRECONDITION
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ApiError(StepFailed):
    """The smgrpc endpoint answered a call with an error (its messages carry no secret values).

    Transient codes stay as they are (the Region retries the step), a refused credential stays
    UNAUTHENTICATED / PERMISSION_DENIED, anything else fails the step as FAILED_PRECONDITION.
    """

    def __init__(self, operation: str, code: grpc.StatusCode, aws_code: str, message: str) -> None:
        self.aws_code = aws_code
        self.status = code
        if code in _REFUSED:
            text = f"the smgrpc endpoint refused the function's credential on {operation}"
        elif code in TRANSIENT:
            text = f"the smgrpc endpoint could not answer {operation}"
        else:
            text = f"{operation} failed"
        step_code = code if code in TRANSIENT | _REFUSED else grpc.StatusCode.FAILED_PRECONDITION
        super().__init__(f"{text}: {aws_code or code.name}: {message}", step_code)


@dataclass(frozen=True, slots=True)
class Event:
    """One Invoke: the Lambda event's four members."""

    step: str
    secret_id: str  # the secret's ARN
    token: str  # ClientRequestToken: the id of the new (AWSPENDING) version
    rotation_token: str  # pass it as PutSecretValue's RotationToken


class Handler(Protocol):
    """A rotation function's four steps; each must be idempotent (it may run again)."""

    async def create_secret(self, event: Event) -> None: ...
    async def set_secret(self, event: Event) -> None: ...
    async def test_secret(self, event: Event) -> None: ...
    async def finish_secret(self, event: Event) -> None: ...


@dataclass(frozen=True, slots=True)
class Description:
    """What the steps need of DescribeSecret."""

    arn: str
    rotation_enabled: bool | None  # None: rotation never configured
    stages: Mapping[str, frozenset[str]]  # version id -> its staging labels

    def holder(self, stage: str) -> str | None:
        """The version that carries `stage`, if any."""
        return next((vid for vid, labels in self.stages.items() if stage in labels), None)


def _aws_code(exc: grpc.aio.AioRpcError) -> str:
    status = rpc_status.from_call(exc)
    info = error_details_pb2.ErrorInfo()
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
    return str(info.metadata.get("awsErrorCode", ""))


class SecretsApi:
    """The callback client: the calls a rotation function makes with its own credential."""

    def __init__(
        self, channel: grpc.aio.Channel, credential: AccessKeyCredential, timeout: float = 10.0
    ) -> None:
        self._channel = channel
        self._stub = pbg.SecretsManagerStub(channel)  # type: ignore[no-untyped-call]
        bearer = f"Bearer {credential.access_key_id}:{credential.secret_access_key}"
        self._metadata = (("authorization", bearer),)
        self._timeout = timeout

    def __repr__(self) -> str:
        return "SecretsApi(<credential redacted>)"

    async def close(self) -> None:
        await self._channel.close()

    async def _call(self, operation: str, request: Any) -> Any:
        try:
            return await getattr(self._stub, operation)(
                request, metadata=self._metadata, timeout=self._timeout
            )
        except grpc.aio.AioRpcError as exc:
            raise ApiError(operation, exc.code(), _aws_code(exc), exc.details() or "") from None

    async def describe(self, secret_id: str) -> Description:
        r = await self._call("DescribeSecret", pb.DescribeSecretRequest(secret_id=secret_id))
        return Description(
            arn=r.arn,
            rotation_enabled=r.rotation_enabled if r.HasField("rotation_enabled") else None,
            stages={vid: frozenset(s.stages) for vid, s in r.version_ids_to_stages.items()},
        )

    async def get_string(self, secret_id: str, stage: str, version_id: str | None = None) -> str:
        """The SecretString of the version with `stage` (and `version_id`, when given)."""
        req = pb.GetSecretValueRequest(secret_id=secret_id, version_stage=stage)
        if version_id is not None:
            req.version_id = version_id
        r = await self._call("GetSecretValue", req)
        if not r.HasField("secret_string"):
            raise StepFailed(f"the {stage} version of {secret_id} has no SecretString")
        return str(r.secret_string)

    async def pending(self, event: Event) -> str | None:
        """The AWSPENDING value of this rotation's version; None until createSecret put it
        (GetSecretValue answers ResourceNotFoundException for a version without a value)."""
        try:
            return await self.get_string(event.secret_id, PENDING, event.token)
        except ApiError as exc:
            if exc.aws_code == "ResourceNotFoundException":
                return None
            raise

    async def put_pending(self, event: Event, value: str) -> None:
        """PutSecretValue(ClientRequestToken, value, AWSPENDING, RotationToken). If a concurrent
        invocation of the same step put its value first, that value stands (no error)."""
        req = pb.PutSecretValueRequest(
            secret_id=event.secret_id,
            client_request_token=event.token,
            secret_string=value,
            version_stages=[PENDING],
        )
        if event.rotation_token:
            req.rotation_token = event.rotation_token
        try:
            await self._call("PutSecretValue", req)
        except ApiError as exc:
            if exc.aws_code != "ResourceExistsException" or await self.pending(event) is None:
                raise

    async def random_password(self, **rules: Any) -> str:
        """GetRandomPassword with these request fields (exclude_characters=..., ...)."""
        r = await self._call("GetRandomPassword", pb.GetRandomPasswordRequest(**rules))
        return str(r.random_password)

    async def finish(self, event: Event) -> None:
        """AWS's finishSecret: move AWSCURRENT to the new version (nothing if it is there)."""
        d = await self.describe(event.secret_id)
        current = d.holder(CURRENT)
        if current == event.token:
            return
        req = pb.UpdateSecretVersionStageRequest(
            secret_id=event.secret_id, version_stage=CURRENT, move_to_version_id=event.token
        )
        if current is not None:
            req.remove_from_version_id = current
        await self._call("UpdateSecretVersionStage", req)
        log.info("finishSecret: AWSCURRENT moved", extra={"secret": d.arn, "version": event.token})


def connect(
    endpoint: str,
    credentials_file: Path,
    ca_file: Path | None = None,
    *,
    insecure: bool = False,
    timeout: float = 10.0,
) -> SecretsApi:
    """The callback client for `endpoint`: TLS with `ca_file`, else plaintext (loopback only
    unless `insecure`: a Bearer credential in clear text crosses no network by default)."""
    credential = read_admin_token(credentials_file)
    if ca_file is not None:
        try:
            ca = ca_file.read_bytes()
        except OSError as exc:
            raise FunctionConfigError(f"cannot read --ca-file {ca_file}: {exc.strerror}") from None
        creds = grpc.ssl_channel_credentials(root_certificates=ca)
        return SecretsApi(grpc.aio.secure_channel(endpoint, creds), credential, timeout)
    if not (insecure or is_loopback(endpoint)):
        raise FunctionConfigError(
            f"--endpoint {endpoint} is not a loopback address: give --ca-file to call it over "
            "TLS (or --insecure to send the credential in clear text)"
        )
    return SecretsApi(grpc.aio.insecure_channel(endpoint), credential, timeout)


async def check_stage(api: SecretsApi, event: Event) -> bool:
    """AWS's check before every step. False: the new version is AWSCURRENT already (a step
    invoked again after finishSecret: nothing to do). Fails (FAILED_PRECONDITION) when rotation
    is turned off, or when no version has the token or it is not AWSPENDING: createSecret too,
    as in AWS's templates. RotateSecret makes that version (value-less) before the first step,
    so a caller that reaches the function can only replay the idempotent steps of a rotation
    the Region started, never start one (make a version, change a database password)."""
    d = await api.describe(event.secret_id)
    if d.rotation_enabled is False:
        raise StepFailed(f"secret {d.arn} is not enabled for rotation")
    labels = d.stages.get(event.token)
    if labels is None:
        raise StepFailed(f"secret version {event.token} has no stage for rotation of {d.arn}")
    if CURRENT in labels:
        log.info("version already AWSCURRENT", extra={"secret": d.arn, "version": event.token})
        return False
    if PENDING not in labels:
        raise StepFailed(f"secret version {event.token} is not AWSPENDING for rotation of {d.arn}")
    return True


class _Servicer(rpbg.RotationFunctionServicer):
    def __init__(self, handler: Handler, api: SecretsApi) -> None:
        self._handler = handler
        self._api = api

    async def Invoke(self, request: rpb.RotationEvent, context: Any) -> rpb.RotationResult:
        event = Event(
            request.step, request.secret_id, request.client_request_token, request.rotation_token
        )
        failure = _invalid(event) or await self._run(event)
        if failure is not None:
            await context.abort(failure.code, failure.message)
        return rpb.RotationResult()

    async def _run(self, event: Event) -> StepFailed | None:
        fields = {"step": event.step, "secret": event.secret_id, "version": event.token}
        try:
            if await check_stage(self._api, event):
                await getattr(self._handler, STEPS[event.step])(event)
        except StepFailed as exc:
            log.warning("step failed: %s", exc.message, extra={**fields, "code": exc.code.name})
            return exc
        except Exception as exc:
            # The exception's text may quote a value (a driver's error, a JSON fragment): log
            # its type and where it was raised, never its message.
            where = "".join(traceback.format_tb(exc.__traceback__)).rstrip()
            log.error("step raised %s\n%s", type(exc).__name__, where, extra=fields)
            return StepFailed(
                f"{event.step} raised {type(exc).__name__} in the rotation function (see its log)",
                grpc.StatusCode.INTERNAL,
            )
        log.info("step done", extra=fields)
        return None


def _invalid(event: Event) -> StepFailed | None:
    bad = grpc.StatusCode.INVALID_ARGUMENT
    if event.step not in STEPS:
        return StepFailed(f"Step must be one of {', '.join(STEPS)}; got {event.step[:40]!r}", bad)
    if not event.secret_id or not event.token:
        return StepFailed("SecretId and ClientRequestToken are required", bad)
    return None


@dataclass(frozen=True, slots=True)
class ServerTls:
    """TLS for the function's own listener; client_ca: require a client certificate from it."""

    cert: bytes
    key: bytes
    client_ca: bytes | None = None


class FunctionServer:
    """One rotation function served on `listen` (port 0: any free port, see `port`)."""

    def __init__(
        self,
        handler: Handler,
        api: SecretsApi,
        listen: str,
        *,
        tls: ServerTls | None = None,
        grace: float = 5.0,
    ) -> None:
        self._server = grpc.aio.server()
        servicer = _Servicer(handler, api)
        rpbg.add_RotationFunctionServicer_to_server(servicer, self._server)  # type: ignore[no-untyped-call]
        self._api = api
        self._listen = listen
        self._tls = tls
        self._grace = grace
        self.port = 0

    async def start(self) -> int:
        if self._tls is None:
            self.port = self._server.add_insecure_port(self._listen)
        else:
            creds = grpc.ssl_server_credentials(
                [(self._tls.key, self._tls.cert)],
                root_certificates=self._tls.client_ca,
                require_client_auth=self._tls.client_ca is not None,
            )
            self.port = self._server.add_secure_port(self._listen, creds)
            if self._tls.client_ca is None:
                log.warning(
                    "rotation function serves TLS without --tls-client-ca: any client that "
                    "reaches the port can invoke it; require the Region's client certificate",
                    extra={"listen": self._listen},
                )
        await self._server.start()
        log.info("rotation function listening", extra={"listen": self._listen, "port": self.port})
        return self.port

    async def stop(self, grace: float | None = None) -> None:
        """Stop accepting calls, let the ones running finish within `grace`, close the client."""
        await self._server.stop(self._grace if grace is None else grace)
        await self._api.close()

    async def serve_until_signal(self) -> None:
        """Serve until SIGTERM or SIGINT, then stop gracefully."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        try:
            await stopping.wait()
            log.info("signal received: stopping")
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await self.stop()
