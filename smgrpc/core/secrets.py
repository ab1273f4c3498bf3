"""Use cases for a secret's lifecycle and metadata (named after the AWS actions)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from smgrpc.core import arn as arns
from smgrpc.core import filters as flt
from smgrpc.core import guards, listing, paging, replicas
from smgrpc.core import validate as check
from smgrpc.core.errors import (
    UPDATE_MARKED_DELETED,
    InvalidParameter,
    InvalidRequest,
    LimitExceeded,
    ResourceExists,
)
from smgrpc.core.model import DEFAULT_KMS_ALIAS, Secret, Version
from smgrpc.core.ports import Cipher, Clock, Store
from smgrpc.core.values import ValueUseCases, token_conflict

DAY = 86400.0
SORT_KEYS = listing.SORT_KEYS


@dataclass(frozen=True)
class Deleted:
    arn: str
    name: str
    deletion_date: float


def _kms_ref(ref: str | None) -> str | None:
    """Stored KmsKeyId: None for the AWS managed default (DescribeSecret then omits it)."""
    return None if ref in (None, "", DEFAULT_KMS_ALIAS) else ref


class SecretUseCases:
    """Create/Describe/Update/Delete/RestoreSecret, tags and ListSecrets."""

    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        clock: Clock,
        values: ValueUseCases,
        region: str,
        account: str = arns.DEFAULT_ACCOUNT,
        *,
        tokens: paging.Tokens,
        peers: Collection[str] = (),
    ) -> None:
        """peers: the Regions this one replicates with (AddReplicaRegions must name one)."""
        self.store = store
        self.tokens = tokens
        self.cipher = cipher
        self.clock = clock
        self.values = values
        self.region = region
        self.account = account
        self.peers = peers

    # ---- CreateSecret ----

    async def create_secret(
        self,
        name: str,
        token: str | None,
        description: str | None,
        kms_key_id: str | None,
        string: str | None,
        binary: bytes | None,
        tags: Sequence[tuple[str, str]],
        type_: str | None = None,
        add_replica_regions: Sequence[tuple[str, str | None]] = (),
        force_overwrite_replica: bool = False,
    ) -> tuple[Secret, Version | None]:
        check.name(name)
        check.description(description)
        check.kms_key_id(kms_key_id)
        check.length(type_, "type", 0, 256)
        check.tags(tags)
        value = check.value(string, binary)
        check.token(token)
        if add_replica_regions:
            replicas.validate_regions(add_replica_regions, "addReplicaRegions")
        if len({k for k, _ in tags}) != len(tags):
            raise InvalidParameter("Duplicate tag keys are not allowed.", field="tags")
        async with self.store.transaction() as tx:
            existing = tx.find(name)  # names cannot contain ':', so this is a name lookup
            if existing is not None:
                guards.not_replica(existing)
                if existing.deleted_date is not None:
                    raise InvalidRequest(
                        "You can't create this secret because a secret with this name is "
                        "already scheduled for deletion.",
                        resource=existing.arn,
                    )
                if token is not None and value is not None and existing.version(token):
                    stored = await self.values.stored_value(tx, existing, token)
                    if value.same_as(stored):
                        # The version this token created, wherever AWSCURRENT is now.
                        return existing, existing.version(token)
                    raise token_conflict(token, existing.arn)
                raise ResourceExists(
                    f"The operation failed because the secret {name} already exists.",
                    resource=existing.arn,
                )
            self.cipher.check_usable(kms_key_id)
            now = self.clock.now()
            secret = Secret(
                arn=arns.secret_arn(self.region, self.account, name, arns.random_suffix()),
                name=name,
                created_at=now,
                last_changed_at=now,
                description=description or None,
                kms_key_id=_kms_ref(kms_key_id),
                tags=tuple(tags) if tags else None,
                type=type_ or None,
            )
            if add_replica_regions:
                secret = replicas.add_replicas(
                    secret,
                    add_replica_regions,
                    force_overwrite_replica,
                    region=self.region,
                    peers=self.peers,
                )
            if value is None:
                await tx.save(secret)
                return secret, None
            return await self.values.new_version(
                tx, secret, token or str(uuid.uuid4()), value, None
            )

    # ---- DescribeSecret ----

    def describe_secret(self, secret_id: str) -> Secret:
        check.secret_id(secret_id)
        # With the LastAccessedDate of reads not yet flushed (core/access.py).
        return self.values.access.view(guards.found(self.store.find(secret_id), secret_id))

    # ---- UpdateSecret ----

    async def update_secret(
        self,
        secret_id: str,
        token: str | None,
        description: str | None,
        kms_key_id: str | None,
        string: str | None,
        binary: bytes | None,
        type_: str | None = None,
    ) -> tuple[Secret, Version | None]:
        check.secret_id(secret_id)
        check.description(description)
        check.kms_key_id(kms_key_id)
        check.length(type_, "type", 0, 256)
        value = check.value(string, binary)
        async with self.store.transaction() as tx:
            secret = guards.found(tx.find(secret_id), secret_id)
            guards.not_replica(secret)
            if value is not None and token is not None and secret.version(token):
                if value.same_as(await self.values.stored_value(tx, secret, token)):
                    return secret, secret.version(token)
                raise token_conflict(token, secret.arn)
            guards.not_deleted(secret, UPDATE_MARKED_DELETED)
            check.token(token)
            now = self.clock.now()
            blobs = {}
            updated = secret
            if kms_key_id is not None:
                new_key = self.cipher.check_usable(kms_key_id)
                updated = updated.evolve(kms_key_id=_kms_ref(kms_key_id))
                # Re-encrypt every labeled version under the new key (AWS re-encrypts
                # AWSCURRENT, AWSPENDING and AWSPREVIOUS); all in this one transaction.
                versions = []
                for v in secret.versions:
                    if v.stages and v.has_value and v.kms_key_id != new_key.key_id:
                        plain = await self.values.stored_value(tx, secret, v.version_id)
                        if plain is not None:
                            sealed = self.cipher.seal(
                                plain,
                                ref=kms_key_id,
                                secret_arn=secret.arn,
                                version_id=v.version_id,
                            )
                            blobs[v.version_id] = sealed
                            v = Version(
                                v.version_id,
                                v.created_at,
                                v.stages,
                                sealed.kms_key_id,
                                True,
                                v.last_accessed_day,
                            )
                    versions.append(v)
                updated = updated.evolve(versions=tuple(versions))
            if description is not None:
                updated = updated.evolve(description=description or None)
            if type_ is not None:
                updated = updated.evolve(type=type_ or None)
            updated = updated.evolve(last_changed_at=now)
            await tx.save(updated, blobs)
            if value is None:
                return updated, None
            return await self.values.new_version(
                tx, updated, token or str(uuid.uuid4()), value, None
            )

    # ---- DeleteSecret / RestoreSecret / purge ----

    async def delete_secret(
        self, secret_id: str, window: int | None, force: bool | None
    ) -> Deleted:
        if window is not None and not 7 <= window <= 30:
            raise InvalidParameter(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
                field="recoveryWindowInDays",
            )
        if window is not None and force:
            raise InvalidParameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with "
                "RecoveryWindowInDays.",
                field="forceDeleteWithoutRecovery",
            )
        check.secret_id(secret_id)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            secret = tx.find(secret_id)
            if secret is None and force:
                # AWS: a forced delete of a secret that does not exist is not an error.
                name = arns.name_from_partial_arn(secret_id) or secret_id
                return Deleted(
                    arns.secret_arn(self.region, self.account, name, arns.random_suffix()),
                    secret_id,
                    now,
                )
            secret = guards.found(secret, secret_id)
            guards.not_replica(secret)
            if secret.replicas:
                regions = ",".join(r.region for r in secret.replicas)
                raise InvalidParameter(
                    f"You can't delete secret {secret_id} that still has replica regions "
                    f"[{regions}]",
                    resource=secret.arn,
                )
            if force:
                await tx.delete(secret)
                return Deleted(secret.arn, secret.name, now)
            guards.not_deleted(secret)
            when = now + (window or 30) * DAY
            await tx.save(secret.evolve(deleted_date=when))
            return Deleted(secret.arn, secret.name, when)

    async def restore_secret(self, secret_id: str) -> Secret:
        check.secret_id(secret_id)
        async with self.store.transaction() as tx:
            secret = guards.found(tx.find(secret_id), secret_id)
            guards.not_replica(secret)
            if secret.deleted_date is not None:
                secret = secret.evolve(deleted_date=None)
                await tx.save(secret)
            return secret

    async def purge_due(self) -> list[str]:
        """Delete for good every secret whose recovery window has ended; returns their ARNs."""
        now = self.clock.now()
        due = await self.store.due_for_deletion(now)  # an index: no scan of every secret
        purged = []
        for s in due:
            async with self.store.transaction() as tx:
                cur = tx.find_arn(s.arn)
                if cur is not None and cur.deleted_date is not None and cur.deleted_date <= now:
                    await tx.delete(cur)
                    purged.append(cur.arn)
        return purged

    # ---- TagResource / UntagResource ----

    async def tag_resource(self, secret_id: str, tags: Sequence[tuple[str, str]]) -> None:
        check.secret_id(secret_id)
        check.tags(tags)
        async with self.store.transaction() as tx:
            secret = guards.found(tx.find(secret_id), secret_id)
            guards.not_replica(secret)
            guards.not_deleted(secret, UPDATE_MARKED_DELETED)  # AWS-recorded text
            merged = dict(secret.tags or ())
            for k, v in tags:
                merged[k] = v  # an existing key keeps its position and takes the new value
            if len(merged) > check.MAX_TAGS:
                raise LimitExceeded(
                    f"A secret can have at most {check.MAX_TAGS} tags.", field="tags"
                )
            await tx.save(secret.evolve(tags=tuple(merged.items())))

    async def untag_resource(self, secret_id: str, keys: Sequence[str]) -> None:
        check.secret_id(secret_id)
        for i, k in enumerate(keys, 1):
            check.tag_key(k, f"tagKeys.{i}.member")
        async with self.store.transaction() as tx:
            secret = guards.found(tx.find(secret_id), secret_id)
            guards.not_replica(secret)
            guards.not_deleted(secret, UPDATE_MARKED_DELETED)  # AWS-recorded text
            drop = set(keys)
            await tx.save(
                secret.evolve(tags=tuple((k, v) for k, v in secret.tags or () if k not in drop))
            )

    # ---- ListSecrets ----

    def _keep(
        self,
        filters: Sequence[flt.Filter],
        include_planned_deletion: bool,
        visible: Callable[[Secret], bool] | None = None,
    ) -> Callable[[Secret], bool]:
        test = flt.compile_filters(filters) if filters else None
        quick = flt.text_test(filters) if filters else None  # rules most secrets out cheaply

        def keep(s: Secret) -> bool:
            if s.deleted_date is not None and not include_planned_deletion and not s.is_replica:
                return False
            if quick is not None and not quick(s.filter_text):
                return False
            if test is not None and not test(self.filter_target(s)):
                return False
            # Authorization last: the cheapest tests rule most secrets out first.
            return visible is None or visible(s)

        return keep

    async def matching(
        self,
        filters: Sequence[flt.Filter],
        after: listing.Position | None,
        size: int,
        include_planned_deletion: bool = False,
        sort_by: str = "created-date",
        descending: bool = False,
        visible: Callable[[Secret], bool] | None = None,
    ) -> tuple[list[Secret], listing.Position | None]:
        """One page of the secrets that pass the filters (and `visible`: the caller may see
        them), in order after a position; and the position of its last secret if more follow.
        Skipped secrets still advance the position, so NextToken semantics are unchanged."""
        return await listing.collect(
            self.store,
            self._keep(filters, include_planned_deletion, visible),
            by=sort_by,
            descending=descending,
            after=after,
            size=size,
        )

    def filter_target(self, s: Secret) -> flt.FilterTarget:
        primary = s.primary_region or (self.region if s.replicas else None)
        return flt.FilterTarget(
            s.name, s.description, s.tags, primary, s.owning_service, s.filter_words
        )

    async def list_secrets(
        self,
        include_planned_deletion: bool,
        max_results: int | None,
        next_token: str | None,
        filters: Sequence[flt.Filter],
        sort_order: str | None,
        sort_by: str | None,
        visible: Callable[[Secret], bool] | None = None,
    ) -> tuple[list[Secret], str | None]:
        """visible: whether the caller may see a secret (the API's authorization predicate)."""
        check.int_range(max_results, "maxResults", 1, 100)
        flt.validate_filters(filters)
        check.one_of(sort_order, "sortOrder", ("asc", "desc"))
        check.one_of(sort_by, "sortBy", SORT_KEYS)
        by = sort_by or "created-date"
        desc = sort_order == "desc"
        fp = paging.fingerprint(
            "list", include_planned_deletion, [(f.key, f.values) for f in filters], by, desc
        )
        after = None
        if next_token is not None:
            primary, arn = self.tokens.decode(next_token, fp, listing.SHAPES[by])
            after = (primary, str(arn))
        items, last = await self.matching(
            filters, after, max_results or 100, include_planned_deletion, by, desc, visible
        )
        # Reads noted since the last flush (<= ~1 s) show in LastAccessedDate at once; the
        # last-accessed-date order follows the stored dates (day resolution, as in AWS).
        items = self.values.access.view_all(items)
        return items, self.tokens.encode(last, fp) if last is not None else None
