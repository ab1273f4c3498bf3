"""Use cases for multi-Region secrets: ReplicateSecretToRegions, RemoveRegionsFromReplication,
StopReplicationToReplica (and the replica part of CreateSecret)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence

from smgrpc.core import guards
from smgrpc.core import replication as repl
from smgrpc.core import validate as check
from smgrpc.core.errors import InvalidParameter
from smgrpc.core.model import DEFAULT_KMS_ALIAS, Secret
from smgrpc.core.ports import Store

# (region, lineage/arn) -> a non-secret message while that Region is behind and unreachable.
LinkView = Callable[[str, str], str | None]


def validate_regions(add: Sequence[tuple[str, str | None]], path: str) -> None:
    if not add:
        raise check.validation("'[]'", path, "Member must have length greater than or equal to 1")
    seen = set()
    for i, (region, kms) in enumerate(add, 1):
        check.region(region, f"{path}.{i}.member.region")
        check.kms_key_id(kms, f"{path}.{i}.member.kmsKeyId")
        if region in seen:
            raise InvalidParameter(f"Region {region} is listed more than once.", field=path)
        seen.add(region)


def add_replicas(
    secret: Secret,
    add: Sequence[tuple[str, str | None]],
    force: bool,
    *,
    region: str,
    peers: Collection[str],
) -> Secret:
    """The secret with new replica Regions (InProgress), checked as AWS checks them."""
    for target, _ in add:
        if target == region:
            raise InvalidParameter("Invalid replica region.", field="addReplicaRegions")
        if target not in peers:
            raise InvalidParameter(
                f"Invalid replica region: {target} is not a peer Region of {region}.",
                field="addReplicaRegions",
            )
    current = {r.region: r for r in secret.replicas}
    replicas = list(secret.replicas)
    for target, kms in add:
        kms = kms or DEFAULT_KMS_ALIAS
        entry = repl.replica_entry(target, kms, force)
        existing = current.get(target)
        if existing is None:
            replicas.append(entry)
        elif existing.status == repl.FAILED:
            # A retry (AWS: "retry replication", with ForceOverwriteReplicaSecret if needed).
            replicas = [entry if r.region == target else r for r in replicas]
        elif existing.kms_key_id != kms:
            raise InvalidParameter(
                f"Region {target} is already a replica Region of this secret with KMS key "
                f"{existing.kms_key_id}.",
                field="addReplicaRegions",
            )
    return secret.evolve(replicas=tuple(replicas), lineage=secret.lineage or str(uuid.uuid4()))


class ReplicaUseCases:
    """The three replication operations of the public API."""

    def __init__(
        self, store: Store, region: str, peers: Collection[str], link_view: LinkView | None = None
    ) -> None:
        self.store = store
        self.region = region
        self.peers = peers
        self.link_view = link_view

    async def replicate_secret_to_regions(
        self, secret_id: str, add: Sequence[tuple[str, str | None]], force: bool
    ) -> Secret:
        check.secret_id(secret_id)
        validate_regions(add, "addReplicaRegions")
        async with self.store.transaction() as tx:
            secret = guards.found(tx.find(secret_id), secret_id)
            guards.not_replica(secret)
            guards.not_deleted(secret)
            updated = add_replicas(secret, add, force, region=self.region, peers=self.peers)
            await tx.save(updated)
            return self.view(updated)

    async def remove_regions_from_replication(
        self, secret_id: str, regions: Sequence[str]
    ) -> Secret:
        check.secret_id(secret_id)
        if not regions:
            raise check.validation(
                "'[]'", "removeReplicaRegions", "Member must have length greater than or equal to 1"
            )
        for i, r in enumerate(regions, 1):
            check.region(r, f"removeReplicaRegions.{i}.member")
        async with self.store.transaction() as tx:
            secret = guards.found(tx.find(secret_id), secret_id)
            guards.not_replica(secret)
            drop = set(regions)
            updated = secret.evolve(
                replicas=tuple(r for r in secret.replicas if r.region not in drop)
            )
            if updated != secret:
                await tx.save(updated)  # the outbox carries a removal to each dropped Region
            return self.view(updated)

    async def stop_replication_to_replica(self, secret_id: str) -> Secret:
        check.secret_id(secret_id)
        async with self.store.transaction() as tx:
            secret = guards.found(tx.find(secret_id), secret_id)
            if not secret.is_replica:
                raise InvalidParameter(
                    "StopReplicationToReplica must be called on a replica secret, in the "
                    "replica's Region; this secret is not a replica.",
                    resource=secret.arn,
                )
            # The epoch bump is durable before we answer: later pushes from the old primary
            # carry the old epoch and are refused.
            promoted = secret.evolve(primary_region=None, replicas=(), epoch=secret.epoch + 1)
            await tx.save(promoted)
            old_primary = secret.primary_region
            if old_primary is not None and old_primary in self.peers:
                # Tell the old primary (now or when it is reachable) to drop this Region.
                await tx.enqueue(promoted, [(old_primary, repl.PROMOTED)])
            return promoted

    def view(self, secret: Secret) -> Secret:
        """Statuses as shown: a Region whose changes are stuck (unreachable, or an error here)
        shows InProgress with the reason, whether it was InSync or still InProgress."""
        if self.link_view is None or not secret.replicas:
            return secret
        out = secret
        for r in secret.replicas:
            if r.status in (repl.IN_SYNC, repl.IN_PROGRESS):
                msg = self.link_view(r.region, secret.arn)
                if msg is not None:
                    out = repl.set_status(out, r.region, repl.IN_PROGRESS, msg)
        return out
