"""The minimal rotation function: copy this file to write your own.

It rotates a password that lives only in the secret: createSecret makes a new random one
(inside the `password` key if the current value is a JSON object, else as the whole
SecretString), setSecret is where you would push it to the protected resource, testSecret
where you would check it works there, and finishSecret makes it AWSCURRENT.

Run it (it serves until SIGTERM):

    python -m smgrpc.rotators.template --listen 127.0.0.1:50061 \\
        --endpoint 127.0.0.1:50051 --credentials-file rotator.token

and register it with the Region: `smgrpc serve --rotation-function my-rotator=127.0.0.1:50061`;
RotateSecret then names it `arn:aws:lambda:<region>:<account>:function:my-rotator`.

How a step is called (smgrpc.rotators.function does this part for you): the Region sends
Invoke(Step, SecretId, ClientRequestToken, RotationToken). Before the step runs, the base
checks the secret's labels as AWS's templates do: rotation must not be turned off, and the
version named by ClientRequestToken must carry AWSPENDING (if it already carries AWSCURRENT,
the rotation is finished and the step does nothing). Returning normally answers OK; raising
StepFailed answers its status code and message. Any step may be invoked again with the same
event (a retry, a restart of the Region): every step must be idempotent.

Never put a secret value in a log line or an exception message: the Region logs the status
message of a failed step.
"""

from __future__ import annotations

import argparse
import json
import logging

from smgrpc.rotators import options
from smgrpc.rotators.function import CURRENT, Event, SecretsApi, StepFailed

log = logging.getLogger("smgrpc.rotators.template")

# The characters AWS's rotation templates leave out of generated passwords (they break
# connection strings and shell quoting).
EXCLUDE_CHARACTERS = ":/@\"'\\"


class TemplateRotator:
    """The four steps. `api` calls the smgrpc public API back with the function's own
    credential (the AWS Lambda's execution role): give that identity secretsmanager:
    DescribeSecret, GetSecretValue, PutSecretValue, UpdateSecretVersionStage and
    GetRandomPassword on the secrets it rotates, and nothing more."""

    def __init__(self, api: SecretsApi) -> None:
        self.api = api

    async def create_secret(self, event: Event) -> None:
        # The Region's RotateSecret has already made the version `event.token` with the label
        # AWSPENDING but without a value (reading it fails with ResourceNotFoundException).
        # If it has a value, an earlier invocation of this step put it: keep it (idempotent).
        if await self.api.pending(event) is not None:
            return
        # Read the current value to build the new one from it (host, username, ... stay).
        current = await self.api.get_string(event.secret_id, CURRENT)
        password = await self.api.random_password(exclude_characters=EXCLUDE_CHARACTERS)
        try:
            document = json.loads(current)
        except ValueError:
            document = None
        if isinstance(document, dict):
            document["password"] = password
            new_value = json.dumps(document)
        else:
            new_value = password
        # PutSecretValue(ClientRequestToken=event.token, VersionStages=["AWSPENDING"],
        # RotationToken=event.rotation_token): fills the value-less version in (or creates the
        # version if RotateSecret did not). A second identical call is a no-op.
        await self.api.put_pending(event, new_value)
        log.info("createSecret: new value put", extra={"secret": event.secret_id})

    async def set_secret(self, event: Event) -> None:
        # Push the AWSPENDING value to the resource the secret protects: a database's
        # ALTER ROLE, a service's API key endpoint, ... Read it with
        #     pending = await self.api.pending(event)
        # and make this step safe to repeat (e.g. first try logging in with the new value:
        # if that works, it was set by an earlier invocation). This template protects
        # nothing outside the secret, so there is nothing to do.
        pass

    async def test_secret(self, event: Event) -> None:
        # Check that the AWSPENDING value works against the resource (log in with it, call the
        # API). Raise StepFailed with a message that names no value if it does not: the
        # rotation then stops and AWSCURRENT stays where it is.
        if not await self.api.pending(event):
            raise StepFailed(f"the AWSPENDING version of {event.secret_id} has no value")

    async def finish_secret(self, event: Event) -> None:
        # UpdateSecretVersionStage(VersionStage="AWSCURRENT", MoveToVersionId=event.token,
        # RemoveFromVersionId=<the current version>): the new value becomes AWSCURRENT, the
        # old one AWSPREVIOUS. AWSPENDING may stay on the new version: on the AWSCURRENT
        # version it means "no rotation in progress". Invoked again, this does nothing.
        await self.api.finish(event)


def make_handler(api: SecretsApi, args: argparse.Namespace) -> TemplateRotator:
    return TemplateRotator(api)


if __name__ == "__main__":
    raise SystemExit(options.main(make_handler, "python -m smgrpc.rotators.template"))
