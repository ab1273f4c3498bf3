"""Use cases for a secret's resource policy (named after the AWS actions).

Sources: api-behaviors.md §2.4, §2.8, §2.12, §2.23, §1.10, §1.11; replication-security.md
§C.5, §E.1. The policy text is stored verbatim on the secret (`Secret.policy`), written
through the store transaction, so the replication feed ships it with the secret.

Decisions where the sources leave room (AWS model over moto):
- ResourcePolicy length is the model constraint 1..20,480 characters: ValidationException
  "1 validation error detected ..." on Put and Validate (checked before anything else).
- Put: syntax → MalformedPolicyDocumentException; BlockPublicPolicy=true and broad access →
  PublicPolicyException; no lockout check (AWS runs that in ValidateResourcePolicy only).
- Put and Delete on a secret scheduled for deletion: InvalidRequestException (the model lists
  it; the same AWS-recorded text as TagResource); Get and Validate still answer (reads).
- Put and Delete on a replica: the replica InvalidParameterException. Get on a replica is
  allowed (§E.1: the policy replicates with the secret; moto refuses even that read), and so is
  Validate (it changes nothing).
- Validate reports syntax errors as PolicyValidationPassed=false (never raises for them); the
  lockout check needs a caller, so it is skipped when the call carries none.
- Put and Delete do not change LastChangedDate (api-behaviors.md §1.6).

Parsing runs in a worker thread: a 20,480-character policy of ~1,100 distinct Action/Resource
patterns took ~150-200 ms to compile with one regex per pattern; core/policy/match.py now
compiles none (~6 ms), but the worker thread keeps the loop free of it either way. The secret
is checked first (so a missing, replica or deleted secret answers as AWS
orders it), then the policy is parsed off the loop, then the write re-checks the secret in
its transaction (it may have changed meanwhile).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from smgrpc.core import guards
from smgrpc.core import validate as check
from smgrpc.core.errors import UPDATE_MARKED_DELETED, MalformedPolicyDocument
from smgrpc.core.model import Secret
from smgrpc.core.policy import MAX_RESOURCE_POLICY_CHARS, parse_policy
from smgrpc.core.policy import checks as policy_checks
from smgrpc.core.policy.checks import ValidationErrorsEntry, ValidationResult
from smgrpc.core.policy.context import Call, Caller, needs
from smgrpc.core.ports import Store

POLICY_PATH = "resourcePolicy"


@dataclass(frozen=True, slots=True)
class SecretPolicy:
    """GetResourcePolicy's answer: ARN, Name and the stored text (None when there is none)."""

    arn: str
    name: str
    policy: str | None


def _policy_text(text: str) -> None:
    check.length(text, POLICY_PATH, 1, MAX_RESOURCE_POLICY_CHARS)


def _writable(secret: Secret | None, secret_id: str) -> Secret:
    """The secret a policy write may change: it exists, is no replica, is not deleted."""
    found = guards.found(secret, secret_id)
    guards.not_replica(found)
    guards.not_deleted(found, UPDATE_MARKED_DELETED)
    return found


def _validate(text: str, caller: Caller | None, secret: Secret | None) -> ValidationResult:
    """ValidateResourcePolicy's checks (pure; CPU-bound for large policies)."""
    if caller is not None:
        params = {"SecretId": secret.arn} if secret is not None else {}
        request = needs(Call("ValidateResourcePolicy", params, secret))[0].request(caller)
        arn = secret.arn if secret is not None else None
        return policy_checks.validate_resource_policy(text, request, arn)
    try:
        parsed = parse_policy(text, kind="resource")
    except MalformedPolicyDocument as e:
        return ValidationResult(
            False, (ValidationErrorsEntry(policy_checks.CHECK_SYNTAX, e.message),)
        )
    errors = policy_checks.broad_access_errors(parsed)
    return ValidationResult(not errors, errors)


class PolicyUseCases:
    """Put/Get/Delete/ValidateResourcePolicy."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- PutResourcePolicy ----

    async def put_resource_policy(
        self, secret_id: str, policy: str, block_public_policy: bool | None = None
    ) -> Secret:
        check.secret_id(secret_id)
        _policy_text(policy)
        _writable(self.store.find(secret_id), secret_id)
        await asyncio.to_thread(
            policy_checks.check_put_resource_policy, policy, block_public=bool(block_public_policy)
        )
        async with self.store.transaction() as tx:
            secret = _writable(tx.find(secret_id), secret_id)
            if secret.policy != policy:
                secret = secret.evolve(policy=policy)
                await tx.save(secret)
            return secret

    # ---- GetResourcePolicy ----

    def get_resource_policy(self, secret_id: str) -> SecretPolicy:
        check.secret_id(secret_id)
        secret = guards.found(self.store.find(secret_id), secret_id)
        return SecretPolicy(secret.arn, secret.name, secret.policy)

    # ---- DeleteResourcePolicy ----

    async def delete_resource_policy(self, secret_id: str) -> Secret:
        check.secret_id(secret_id)
        async with self.store.transaction() as tx:
            secret = _writable(tx.find(secret_id), secret_id)
            if secret.policy is not None:  # idempotent: no write (and no replication) if none
                secret = secret.evolve(policy=None)
                await tx.save(secret)
            return secret

    # ---- ValidateResourcePolicy ----

    async def validate_resource_policy(
        self, secret_id: str | None, policy: str, caller: Caller | None
    ) -> ValidationResult:
        """Syntax, broad-access and (with a caller) lockout checks; AWS's response shape.

        The lockout check evaluates the proposed policy for `caller` with the request context
        of this call (resource tags of the secret included) and fails if it explicitly denies
        secretsmanager:PutResourcePolicy or DeleteResourcePolicy on the secret.
        """
        if secret_id is not None:
            check.secret_id(secret_id)
        _policy_text(policy)
        secret = None
        if secret_id is not None:
            secret = guards.found(self.store.find(secret_id), secret_id)
        return await asyncio.to_thread(_validate, policy, caller, secret)
