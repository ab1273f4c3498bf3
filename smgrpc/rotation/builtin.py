"""smgrpc-builtin-password: the in-process rotator that makes a new random password.

createSecret puts a new password (GetRandomPassword rules, read from the secret's tags) as the
AWSPENDING version named by the run's token: into the `password` key of a secret whose current
value is a JSON object (its other keys kept), or as the whole SecretString otherwise.
setSecret and testSecret do nothing (there is no external resource); finishSecret moves
AWSCURRENT to the new version (UpdateSecretVersionStage; AWSPREVIOUS follows). Every step is
idempotent: run again, it finds its work done and returns.

Rules come from tags only (choice: the secret's JSON is what applications read, so it carries
no rotator settings), named after GetRandomPassword's parameters under `smgrpc:password:`:
PasswordLength, ExcludeCharacters, ExcludeNumbers, ExcludePunctuation, ExcludeUppercase,
ExcludeLowercase, IncludeSpace, RequireEachIncludedType (booleans: true/false).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from smgrpc.core.errors import InvalidParameter, ServiceError
from smgrpc.core.model import AWSCURRENT, AWSPENDING, Secret
from smgrpc.core.passwords import generate_password
from smgrpc.core.rotation import BUILTIN_PASSWORD
from smgrpc.core.values import ValueUseCases
from smgrpc.rotation.invokers import RotationEvent, StepFailed

log = logging.getLogger("smgrpc.rotation")

TAG_PREFIX = "smgrpc:password:"
_BOOLS = {
    "ExcludeNumbers": "exclude_numbers",
    "ExcludePunctuation": "exclude_punctuation",
    "ExcludeUppercase": "exclude_uppercase",
    "ExcludeLowercase": "exclude_lowercase",
    "IncludeSpace": "include_space",
    "RequireEachIncludedType": "require_each_included_type",
}
PASSWORD_KEY = "password"


def password_rules(secret: Secret) -> dict[str, Any]:
    """generate_password's keyword arguments from the secret's `smgrpc:password:*` tags."""
    rules: dict[str, Any] = {}
    for key, value in secret.tags or ():
        if not key.startswith(TAG_PREFIX):
            continue
        name = key.removeprefix(TAG_PREFIX)
        if name == "PasswordLength":
            if not value.strip().isdigit():
                raise InvalidParameter(f"Tag {key} must be a whole number.")
            rules["length"] = int(value)
        elif name == "ExcludeCharacters":
            rules["exclude_characters"] = value
        elif name in _BOOLS:
            flag = value.strip().lower()
            if flag not in ("true", "false"):
                raise InvalidParameter(f"Tag {key} must be true or false.")
            rules[_BOOLS[name]] = flag == "true"
        else:
            raise InvalidParameter(f"Tag {key} is not a GetRandomPassword parameter.")
    return rules


def new_value(current: str | None, password: str) -> str:
    """The password in the `password` key of a JSON object, else as the whole string."""
    if current is not None:
        try:
            doc = json.loads(current)
        except (ValueError, RecursionError):
            doc = None
        if isinstance(doc, dict):
            doc[PASSWORD_KEY] = password
            return json.dumps(doc)
    return password


class BuiltinPassword:
    """The four steps in-process, through the same use cases the API calls."""

    name = BUILTIN_PASSWORD

    def __init__(self, values: ValueUseCases) -> None:
        self.values = values

    def __repr__(self) -> str:
        return "BuiltinPassword()"

    async def invoke(self, event: RotationEvent, timeout: float) -> None:  # noqa: ASYNC109
        try:
            async with asyncio.timeout(timeout):
                if event.step == "createSecret":
                    await self._create(event)
                elif event.step == "finishSecret":
                    await self._finish(event)
                elif event.step not in ("setSecret", "testSecret"):
                    raise InvalidParameter("Unknown rotation step.")
        except TimeoutError:
            raise StepFailed("DEADLINE_EXCEEDED", transient=True) from None
        except ServiceError as exc:
            log.warning(
                "rotation function %s: %s of %s failed: %s",
                self.name,
                event.step,
                event.secret_id,
                exc.aws_code,
            )
            raise StepFailed(exc.aws_code, transient=False) from None

    def _secret(self, arn: str) -> Secret:
        secret = self.values.store.find(arn)
        if secret is None:
            raise InvalidParameter("The secret no longer exists.")
        return secret

    async def _create(self, event: RotationEvent) -> None:
        secret = self._secret(event.secret_id)
        pending = secret.version(event.client_request_token)
        if pending is not None and pending.has_value:
            return  # done before (a retry or a resumed run)
        current = secret.version_with_stage(AWSCURRENT)
        text = None
        if current is not None and current.has_value:
            value = await self.values.stored_value(None, secret, current.version_id)
            text = value.string if value is not None else None
        password = generate_password(**password_rules(secret))
        await self.values.put_secret_value(
            secret.arn,
            event.client_request_token,
            new_value(text, password),
            None,
            [AWSPENDING],
            rotation_token=event.rotation_token,
        )

    async def _finish(self, event: RotationEvent) -> None:
        secret = self._secret(event.secret_id)
        current = secret.version_with_stage(AWSCURRENT)
        if current is not None and current.version_id == event.client_request_token:
            return  # done before
        await self.values.update_secret_version_stage(
            secret.arn,
            AWSCURRENT,
            current.version_id if current is not None else None,
            event.client_request_token,
        )

    async def close(self) -> None:
        return None
