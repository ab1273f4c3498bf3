"""Use cases that read or write secret values and their versions (named after AWS actions)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from smgrpc.core import filters as flt
from smgrpc.core import guards, labels, paging
from smgrpc.core import validate as check
from smgrpc.core.access import AccessRecorder
from smgrpc.core.errors import (
    AccessDenied,
    InvalidParameter,
    InvalidRequest,
    ResourceExists,
    ResourceNotFound,
    ServiceError,
)
from smgrpc.core.listing import SHAPES, Position
from smgrpc.core.model import AWSCURRENT, Secret, SecretValue, Version
from smgrpc.core.ports import Cipher, Clock, Store, WriteTx

MAX_VERSIONS = 100
RETAIN_SECONDS = 24 * 3600
_set = object.__setattr__


@dataclass(frozen=True, repr=False)
class ValueRead:
    """One GetSecretValue result (repr is redacted through SecretValue)."""

    secret: Secret
    version: Version
    value: SecretValue

    def __init__(self, secret: Secret, version: Version, value: SecretValue) -> None:
        # The frozen dataclass's own __init__, with object.__setattr__ bound once (per read).
        _set(self, "secret", secret)
        _set(self, "version", version)
        _set(self, "value", value)

    def __repr__(self) -> str:
        return f"ValueRead({self.secret.arn!r}, {self.version.version_id!r}, <redacted>)"


@dataclass(frozen=True)
class BatchError:
    secret_id: str
    error_code: str
    message: str


def token_conflict(token: str, arn: str) -> ResourceExists:
    return ResourceExists(
        f"You can't use ClientRequestToken {token} because that value is already in use for a "
        f"version of secret {arn}.",
        resource=arn,
    )


def prune(versions: tuple[Version, ...], now: float) -> tuple[Version, ...]:
    """Over 100 versions: drop label-less versions older than 24 h, oldest first."""
    excess = len(versions) - MAX_VERSIONS
    cutoff = now - RETAIN_SECONDS
    # Versions are kept in creation order: if the oldest is recent, nothing can go (O(1)).
    if excess <= 0 or min(versions[0].created_at, versions[-1].created_at) >= cutoff:
        return versions
    candidates = sorted(
        (v for v in versions if not v.stages and v.created_at < now - RETAIN_SECONDS),
        key=lambda v: v.created_at,
    )
    drop = {v.version_id for v in candidates[:excess]}
    return tuple(v for v in versions if v.version_id not in drop)


class ValueUseCases:
    """Get/BatchGet/PutSecretValue, UpdateSecretVersionStage, ListSecretVersionIds."""

    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        clock: Clock,
        access: AccessRecorder | None = None,
        *,
        tokens: paging.Tokens,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.cipher = cipher
        self.clock = clock
        self.access = access if access is not None else AccessRecorder(store)

    # ---- shared with other use cases ----

    async def stored_value(
        self, tx: WriteTx | None, secret: Secret, version_id: str
    ) -> SecretValue | None:
        sealed = await (tx.sealed if tx else self.store.sealed)(secret.arn, version_id)
        if sealed is None:
            return None
        return self.cipher.open(sealed, secret_arn=secret.arn, version_id=version_id)

    async def new_version(
        self,
        tx: WriteTx,
        secret: Secret,
        token: str,
        value: SecretValue,
        stages: Sequence[str] | None,
    ) -> tuple[Secret, Version]:
        """Seal value as version `token`, move its labels, prune, and save (caller's tx).

        The one place versions get a value: a version that has one is never overwritten.
        """
        prior = secret.version(token)
        if prior is not None and prior.has_value:
            raise token_conflict(token, secret.arn)
        now = self.clock.now()
        sealed = self.cipher.seal(
            value, ref=secret.kms_key_id, secret_arn=secret.arn, version_id=token
        )
        fresh = Version(token, now, (), sealed.kms_key_id)
        # A value-less version (RotateSecret's AWSPENDING) being filled in is replaced.
        versions = prune(labels.add_version(secret.versions, fresh, stages, prior is not None), now)
        updated = secret.evolve(versions=versions, last_changed_at=now)
        await tx.save(updated, {token: sealed})
        version = updated.version(token)
        assert version is not None
        return updated, version

    # ---- GetSecretValue ----

    async def get_secret_value(
        self, secret_id: str, version_id: str | None = None, version_stage: str | None = None
    ) -> ValueRead:
        check.secret_id(secret_id)
        check.version_id(version_id, "versionId")
        check.length(version_stage, "versionStage", 1, 256)
        secret = guards.found(self.store.find(secret_id), secret_id)
        read = await self._read(secret, version_id, version_stage)
        self._touch(read)
        return read

    async def get_current_value(self, secret_id: str) -> ValueRead:
        """get_secret_value(secret_id) (AWSCURRENT; no VersionId/VersionStage), flattened.

        GetSecretValue's common case, with the same checks in the same order and fewer calls;
        anything unusual (not found, deleted, no current value) takes the general path, so
        every error is the general path's own.
        """
        check.secret_id(secret_id)
        secret = self.store.find(secret_id)
        if secret is None or secret.deleted_date is not None:
            return await self.get_secret_value(secret_id)
        for version in secret.versions:
            if AWSCURRENT in version.stages:
                break
        else:
            return await self.get_secret_value(secret_id)
        version_id = version.version_id
        sealed = await self.store.sealed(secret.arn, version_id) if version.has_value else None
        if sealed is None:
            return await self.get_secret_value(secret_id)
        read = ValueRead(
            secret, version, self.cipher.open(sealed, secret_arn=secret.arn, version_id=version_id)
        )
        day = guards.day(self.clock.now())
        # AccessRecorder.note's first test, inlined: already stored is the common case.
        if (secret.last_accessed_day or "") < day or (version.last_accessed_day or "") < day:
            self.access.note(secret, version, day)
        return read

    async def _read(self, secret: Secret, version_id: str | None, stage: str | None) -> ValueRead:
        if version_id is not None and stage is not None:
            v = secret.version(version_id)
            if v is not None and stage not in v.stages:
                raise InvalidRequest(
                    "You provided a VersionStage that is not associated to the provided VersionId."
                )
        guards.not_deleted(secret)
        if version_id is not None:
            version = secret.version(version_id)
            missing = f"VersionId: {version_id}"
        else:
            version = secret.version_with_stage(stage or AWSCURRENT)
            missing = f"staging label: {stage or AWSCURRENT}"
        if version is None or not version.has_value:
            raise ResourceNotFound(
                f"Secrets Manager can't find the specified secret value for {missing}",
                resource=secret.arn,
            )
        value = await self.stored_value(None, secret, version.version_id)
        if value is None:
            raise ResourceNotFound(
                f"Secrets Manager can't find the specified secret value for {missing}",
                resource=secret.arn,
            )
        return ValueRead(secret, version, value)

    def _touch(self, read: ValueRead) -> None:
        """Note LastAccessedDate (day resolution); persisted later, never awaited by a read."""
        self.access.note(read.secret, read.version, guards.day(self.clock.now()))

    # ---- BatchGetSecretValue ----

    async def batch_get_secret_value(
        self,
        secret_ids: Sequence[str],
        filters: Sequence[flt.Filter],
        max_results: int | None,
        next_token: str | None,
        *,
        listing: Callable[
            [Sequence[flt.Filter], Position | None, int],
            Awaitable[tuple[list[Secret], Position | None]],
        ],
        denied: Callable[[Secret | str], str | None] | None = None,
    ) -> tuple[list[ValueRead], list[BatchError], str | None]:
        """listing: a filtered page of secrets (by Filters: only those the caller may read);
        denied: the AccessDenied message for a secret the caller may not read (by ids: it is
        reported in Errors), else None."""
        if secret_ids and filters:
            raise InvalidParameter(
                "Either 'SecretIdList' or 'Filters' must be provided, but not both."
            )
        if max_results is not None and not filters:
            raise InvalidParameter(
                "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' "
                "is provided."
            )
        if len(secret_ids) > 20:
            raise check.validation(
                "", "secretIdList", "Member must have length less than or equal to 20"
            )
        check.int_range(max_results, "maxResults", 1, 20)
        reads: list[ValueRead] = []
        errors: list[BatchError] = []
        if not secret_ids and not filters:
            # Neither list: nothing was asked for (never "every secret"); moto answers empty too.
            return reads, errors, None
        if secret_ids:
            for i, sid in enumerate(secret_ids, 1):
                check.secret_id(sid, f"secretIdList.{i}.member")
            targets: list[tuple[str, Secret | None]] = [
                (sid, self.store.find(sid)) for sid in secret_ids
            ]
            token_out = None
        else:
            flt.validate_filters(filters)
            # Creation order, keyset-paged like ListSecrets (its default order).
            fp = paging.fingerprint("batch", [(f.key, f.values) for f in filters])
            after = None
            if next_token is not None:
                created, arn = self.tokens.decode(next_token, fp, SHAPES["created-date"])
                after = (created, str(arn))
            chunk, last = await listing(filters, after, max_results or 20)
            token_out = self.tokens.encode(last, fp) if last is not None else None
            targets = [(s.arn, s) for s in chunk]
        for sid, secret in targets:
            if denied is not None and secret_ids:
                # A missing id is checked too (on the ARN it names), as GetSecretValue does:
                # otherwise NotFound vs AccessDenied would tell a caller which names exist.
                refused = denied(secret if secret is not None else sid)
                if refused is not None:
                    errors.append(BatchError(sid, AccessDenied.aws_code, refused))
                    continue
            try:
                read = await self._read(guards.found(secret, sid), None, None)
                self._touch(read)
                reads.append(read)
            except ServiceError as exc:
                errors.append(BatchError(sid, exc.aws_code, exc.message))
        return reads, errors, token_out

    # ---- PutSecretValue ----

    async def put_secret_value(
        self,
        secret_id: str,
        token: str | None,
        string: str | None,
        binary: bytes | None,
        stages: Sequence[str] | None,
        rotation_token: str | None = None,
    ) -> tuple[Secret, Version]:
        if not string and not binary:
            raise InvalidRequest("You must provide either SecretString or SecretBinary.")
        check.secret_id(secret_id)
        value = check.value(string, binary)
        assert value is not None
        if stages is not None:
            check.stages(stages)
        check.length(rotation_token, "rotationToken", 36, 256, secret=True)
        async with self.store.transaction() as tx:
            secret = guards.found(tx.find(secret_id), secret_id)
            guards.not_replica(secret)
            check.token(token)
            guards.not_deleted(secret)
            token = token or str(uuid.uuid4())
            existing = secret.version(token)
            if existing is not None and existing.has_value:
                # A version's value never changes, whatever its labels: only an identical
                # replay succeeds (a missing blob beside has_value is damage: a conflict too).
                if value.same_as(await self.stored_value(tx, secret, token)):
                    return secret, existing
                raise token_conflict(token, secret.arn)
            # New, or a version created without a value (RotateSecret's AWSPENDING) filled in
            # once: from then on it has a value and the rule above holds.
            return await self.new_version(tx, secret, token, value, stages)

    # ---- UpdateSecretVersionStage ----

    async def update_secret_version_stage(
        self, secret_id: str, stage: str, remove_from: str | None, move_to: str | None
    ) -> Secret:
        check.secret_id(secret_id)
        check.length(stage, "versionStage", 1, 256)
        check.version_id(remove_from, "removeFromVersionId")
        check.version_id(move_to, "moveToVersionId")
        async with self.store.transaction() as tx:
            secret = guards.found(tx.find(secret_id), secret_id)
            guards.not_replica(secret)
            guards.not_deleted(secret)
            versions = labels.move_stage(secret.versions, stage, remove_from, move_to)
            updated = secret.evolve(versions=versions)
            await tx.save(updated)
            return updated

    # ---- ListSecretVersionIds ----

    def key_label(self, key_id: str) -> str:
        """How ListSecretVersionIds names the key of a version (DefaultEncryptionKey or ARN)."""
        return self.cipher.display_id(key_id)

    def list_secret_version_ids(
        self,
        secret_id: str,
        max_results: int | None,
        next_token: str | None,
        include_deprecated: bool,
    ) -> tuple[Secret, list[Version], str | None]:
        check.secret_id(secret_id)
        check.int_range(max_results, "maxResults", 1, 100)
        secret = self.access.view(guards.found(self.store.find(secret_id), secret_id))
        versions = sorted(
            (v for v in secret.versions if include_deprecated or v.stages),
            key=lambda v: (v.created_at, v.version_id),
            reverse=True,
        )
        fp = paging.fingerprint("versions", secret.arn, include_deprecated)
        chunk, token = paging.page(
            versions,
            lambda v: (v.created_at, v.version_id),
            size=max_results or 100,
            token=next_token,
            fp=fp,
            tokens=self.tokens,
            shape=(float, str),
            descending=True,
        )
        return secret, chunk, token
