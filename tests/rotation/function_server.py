"""A tiny rotation function for tests, run as its own process:

    python -m tests.rotation.function_server --dir D

D holds its files: `port` (written once serving), `endpoint` (HOST:PORT of the Region, read
per call, so the function can start before the Region), `token` (`AKID:SECRET`, read per
call), `control` and `journal`.

It implements smgrpc.rotation.v1.RotationFunction the way AWS's Lambda templates do, calling
the public API back with its own IAM user's credential (`AKID:SECRET` in the token file):
createSecret puts `rotated-<uuid>` (or, for a JSON object secret, that value in `password`) as
AWSPENDING unless the version already has a value; setSecret/testSecret read AWSPENDING;
finishSecret moves AWSCURRENT. Each invocation appends `<step> <version id>` to the journal
first. The control file (JSON, re-read per call) injects faults:
    {"fail": ["setSecret"], "code": "INTERNAL"}   fail those steps with that status
    {"hang": ["testSecret"]}                      never answer those steps
    {"die": ["setSecret"]}                        the test kills the Region during that step
                                                  (the function then hangs until cancelled)
    {"flaky": {"setSecret": 2}}                   UNAVAILABLE for the first 2 invocations
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import grpc

from smgrpc._pb.rotation.v1 import rotation_pb2 as rpb
from smgrpc._pb.rotation.v1 import rotation_pb2_grpc as rpbg
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2_grpc as pbg
from tests.authn import channel as authed_channel


class Function(rpbg.RotationFunctionServicer):  # type: ignore[misc]
    def __init__(self, home: Path) -> None:
        self.home = home
        self.control, self.journal = home / "control", home / "journal"
        self._channels: dict[tuple[str, str], pbg.SecretsManagerStub] = {}
        self.api = pbg.SecretsManagerStub(grpc.aio.insecure_channel("127.0.0.1:1"))

    def _connect(self) -> None:
        key = ((self.home / "endpoint").read_text().strip(), (self.home / "token").read_text())
        if key not in self._channels:
            self._channels[key] = pbg.SecretsManagerStub(authed_channel(key[0], key[1].strip()))
        self.api = self._channels[key]

    def _entries(self) -> list[tuple[str, str]]:
        lines = self.journal.read_text().splitlines()
        return [(a, b) for a, _, b in (line.partition(" ") for line in lines)]

    def _control(self) -> dict[str, Any]:
        try:
            data = json.loads(self.control.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    async def Invoke(self, request: rpb.RotationEvent, context: Any) -> rpb.RotationResult:  # noqa: N802
        with self.journal.open("a") as fh:
            fh.write(f"{request.step} {request.client_request_token}\n")
        ctl = self._control()
        self._connect()
        if request.step in ctl.get("hang", ()) or request.step in ctl.get("die", ()):
            await asyncio.Event().wait()
        flaky = ctl.get("flaky", {}).get(request.step, 0)
        if flaky and [s for s, _ in self._entries()].count(request.step) <= flaky:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "injected transient failure")
        if request.step in ctl.get("fail", ()):
            code = grpc.StatusCode[ctl.get("code", "INTERNAL")]
            await context.abort(code, f"injected failure at {request.step}")
        try:
            await getattr(self, request.step)(request)
        except grpc.aio.AioRpcError as exc:  # a call back failed: its code (transient or not)
            await context.abort(exc.code(), f"call back failed: {exc.code().name}")
        return rpb.RotationResult()

    async def createSecret(self, ev: rpb.RotationEvent) -> None:  # noqa: N802
        current = await self.api.GetSecretValue(
            pb.GetSecretValueRequest(secret_id=ev.secret_id, version_stage="AWSCURRENT")
        )
        try:
            await self.api.GetSecretValue(
                pb.GetSecretValueRequest(
                    secret_id=ev.secret_id,
                    version_id=ev.client_request_token,
                    version_stage="AWSPENDING",
                )
            )
            return  # made by an earlier attempt
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
        fresh = f"rotated-{uuid.uuid4()}"
        try:
            doc = json.loads(current.secret_string)
        except ValueError:
            doc = None
        value = json.dumps({**doc, "password": fresh}) if isinstance(doc, dict) else fresh
        await self.api.PutSecretValue(
            pb.PutSecretValueRequest(
                secret_id=ev.secret_id,
                client_request_token=ev.client_request_token,
                secret_string=value,
                version_stages=["AWSPENDING"],
                rotation_token=ev.rotation_token,
            )
        )

    async def setSecret(self, ev: rpb.RotationEvent) -> None:  # noqa: N802
        await self._pending(ev)

    async def testSecret(self, ev: rpb.RotationEvent) -> None:  # noqa: N802
        await self._pending(ev)

    async def _pending(self, ev: rpb.RotationEvent) -> None:
        await self.api.GetSecretValue(
            pb.GetSecretValueRequest(
                secret_id=ev.secret_id,
                version_id=ev.client_request_token,
                version_stage="AWSPENDING",
            )
        )

    async def finishSecret(self, ev: rpb.RotationEvent) -> None:  # noqa: N802
        desc = await self.api.DescribeSecret(pb.DescribeSecretRequest(secret_id=ev.secret_id))
        current = next(
            (v for v, s in desc.version_ids_to_stages.items() if "AWSCURRENT" in s.stages), None
        )
        if current == ev.client_request_token:
            return
        await self.api.UpdateSecretVersionStage(
            pb.UpdateSecretVersionStageRequest(
                secret_id=ev.secret_id,
                version_stage="AWSCURRENT",
                move_to_version_id=ev.client_request_token,
                remove_from_version_id=current,
            )
        )


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, required=True)
    args = ap.parse_args()
    server = grpc.aio.server()
    rpbg.add_RotationFunctionServicer_to_server(Function(args.dir), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    tmp = args.dir / "port.tmp"
    tmp.write_text(str(port))
    tmp.rename(args.dir / "port")
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main())
