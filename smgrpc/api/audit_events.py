"""Background events into the audit trail: rotation steps, replicated changes, purges.

Decorators around the engine-facing interfaces (rotation Transitions, the replication apply
function): the rotation and replication packages stay unaware of the audit trail. Each event
is CloudTrail's AwsServiceEvent shape with the names Secrets Manager uses where it has one
(RotationStarted, RotationSucceeded, RotationFailed, RotationAbandoned); a replicated change
applied here is ReplicationSucceeded, a purge at the end of its recovery window
EndSecretDeletion (smgrpc's names).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from smgrpc.api.audit import Auditor
from smgrpc.core import arn as arns
from smgrpc.core.errors import InternalServiceError
from smgrpc.core.model import Secret
from smgrpc.replication import messages as m
from smgrpc.rotation.runner import Transitions

Apply = Callable[[m.Batch, float], Awaitable[m.Reply]]


class AuditedTransitions:
    """Rotation Transitions that record each committed step as an audit event."""

    def __init__(self, inner: Transitions, auditor: Auditor) -> None:
        self.inner, self.auditor = inner, auditor

    async def start_due(self, arn: str) -> Secret | None:
        got = await self.inner.start_due(arn)
        if got is not None and got.rotating is not None:
            self.auditor.event(
                "RotationStarted", arn, {"versionId": got.rotating.version_id, "scheduled": True}
            )
        return got

    async def step_done(self, arn: str, version_id: str, step: str) -> Secret | None:
        got = await self.inner.step_done(arn, version_id, step)
        if got is not None and got.rotating is None:
            self.auditor.event("RotationSucceeded", arn, {"versionId": version_id})
        return got

    async def step_failed(self, arn: str, version_id: str, step: str) -> Secret | None:
        got = await self.inner.step_failed(arn, version_id, step)
        if got is not None:
            self.auditor.event("RotationFailed", arn, {"versionId": version_id, "step": step})
        return got

    async def abandon(self, arn: str, version_id: str) -> Secret | None:
        got = await self.inner.abandon(arn, version_id)
        self.auditor.event("RotationAbandoned", arn, {"versionId": version_id})
        return got


def audited_apply(apply: Apply, auditor: Auditor, region: str) -> Apply:
    """The replica side: refuse a batch while the audit log is unavailable (the primary keeps
    it and retries), and record every change it applied here."""

    async def run(batch: m.Batch, accepted_at: float) -> m.Reply:
        if not auditor.usable:
            raise InternalServiceError("audit unavailable")
        reply = await apply(batch, accepted_at)
        by_lineage = {st.lineage: st for st in batch.states}
        for result in reply.results:
            st = by_lineage.get(result.lineage)
            if st is None or result.outcome not in (m.APPLIED, m.REMOVED):
                continue
            auditor.event(
                "ReplicationSucceeded",
                arns.with_region(st.primary_arn, region),
                {
                    "sourceRegion": batch.source,
                    "change": "removed" if result.outcome == m.REMOVED else "applied",
                    "generation": st.generation,
                },
            )
        return reply

    return run


def rotation_requested(auditor: Auditor, then: Callable[[str], None]) -> Callable[[str], None]:
    """RotateSecret committed a run (its own API event is recorded by the call)."""

    def started(arn: str) -> None:
        auditor.event("RotationStarted", arn, {"scheduled": False})
        then(arn)

    return started


def purged(auditor: Auditor, arn: str) -> None:
    auditor.event("EndSecretDeletion", arn)
