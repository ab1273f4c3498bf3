"""The audit seam of `handlers.wrap`: one CloudTrail-shaped event per call, fail-closed.

When each call's records are written (README "Audit trail"):
- A mutating call writes a "Request" record first and its handler runs only once that record
  is written (fdatasync'ed with --audit-sync fsync): a call that cannot be recorded is refused
  with UNAVAILABLE / InternalServiceError "audit unavailable" and has done nothing. Its "Event"
  record (outcome, responseElements, errorCode) is queued when it ends, without waiting.
- A read-only call (Get*, List*, Describe*, BatchGet*, Validate*) changes nothing, so it
  writes one record, its Event, and its response is released only once that is written: no
  secret material leaves unrecorded (Vault's rule); if it cannot be written, the call is
  refused the same way.
- So does every call whose response type can carry secret material at any depth, decided
  from the descriptors when the service is built (audit_records.withheld_methods: the members
  no record shows): CreateAccessKey's SecretAccessKey is released only once the Event naming
  the key is written. If it cannot be, the call is refused and the secret never leaves (the
  key was made, as its Request record says; nobody knows its secret: delete it).
- A call refused by authentication or authorization writes its Event (errorCode
  AccessDeniedException / UnrecognizedClientException) without waiting.
- So does a call refused before anything is checked (`refused_early`: ThrottlingException,
  ServiceUnavailable while shutting down, DEADLINE_EXCEEDED when it waited past its deadline):
  userIdentity Unknown, requestParameters null; it did nothing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import grpc
from google.protobuf import descriptor_pool

from smgrpc.api.audit_records import (
    SOURCES,
    CallFacts,
    read_only,
    service_event,
    withheld_methods,
)
from smgrpc.api.errors import SHUTTING_DOWN, THROTTLED
from smgrpc.api.handlers import Metadata, RequestIds
from smgrpc.audit.writer import AuditError, AuditWriter
from smgrpc.auth.bearer import HEADER
from smgrpc.core.errors import ServiceError
from smgrpc.core.iam.model import Principal
from smgrpc.crypto.access_keys import ACCESS_KEY_ID_LEN, ACCESS_KEY_ID_RE

log = logging.getLogger("smgrpc.audit")
_EARLY = {
    grpc.StatusCode.RESOURCE_EXHAUSTED: THROTTLED,
    grpc.StatusCode.UNAVAILABLE: SHUTTING_DOWN,
    grpc.StatusCode.DEADLINE_EXCEEDED: "The deadline passed before the call started.",
}


def _key_id(md: Metadata, principal: Principal | None) -> str | None:
    """The access key id of a Bearer credential (only when it authenticated the call)."""
    if principal is None:
        return None
    for k, v in md:
        if k == HEADER and isinstance(v, str) and len(v) > 7:
            kid = v[7 : 7 + ACCESS_KEY_ID_LEN]
            return kid if ACCESS_KEY_ID_RE.fullmatch(kid) else None
    return None


def _agent(md: Metadata) -> str | None:
    for k, v in md:
        if k == "user-agent" and isinstance(v, str):
            return v[:256]
    return None


class Auditor:
    """A Region's audit trail: the writer, and the facts every record shares."""

    def __init__(self, writer: AuditWriter, region: str, account: str) -> None:
        self.writer, self.region, self.account = writer, region, account
        self._ids = RequestIds()

    def service(self, full_name: str) -> ServiceAudit:
        try:
            desc = descriptor_pool.Default().FindServiceByName(full_name)
            withheld: frozenset[str] | None = withheld_methods(desc)
        except KeyError:  # not a registered service: hold every response (fail closed)
            withheld = None
        return ServiceAudit(self, SOURCES.get(full_name, full_name), withheld)

    async def write(self, raw: bytes) -> bool:
        """Queue a record and wait until it is written; False: the audit log is unavailable."""
        try:
            fut = self.writer.submit(raw, wait=True)
            assert fut is not None
            await fut
        except AuditError:
            return False
        return True

    def queue(self, raw: bytes) -> None:
        self.writer.submit(raw, wait=False)

    def event(self, name: str, arn: str | None, details: dict[str, Any] | None = None) -> None:
        """A background event (rotation, replication, deletion), queued."""
        self.queue(
            service_event(name, self.region, self.account, time.time(), self._ids(), arn, details)
        )

    @property
    def usable(self) -> bool:
        return not self.writer.broken


class ServiceAudit:
    """One service's calls (eventSource)."""

    def __init__(self, auditor: Auditor, source: str, withheld: frozenset[str] | None) -> None:
        """withheld: the methods whose response waits for its Event (None: every method)."""
        self.auditor, self.source, self.withheld = auditor, source, withheld

    def call(
        self,
        method: str,
        request_id: str,
        peer: str,
        md: Metadata,
        principal: Principal | None,
        request: Any,
    ) -> CallAudit:
        a = self.auditor
        facts = CallFacts(
            self.source,
            method,
            request_id,
            a._ids(),
            time.time(),
            peer,
            _agent(md),
            principal,
            _key_id(md, principal),
            request,
            a.region,
            a.account,
        )
        held = self.withheld
        return CallAudit(a, facts, held is None or method in held)

    def refused_early(
        self, method: str, request_id: str, peer: str, code: grpc.StatusCode, aws_code: str
    ) -> None:
        """A call refused before anything was checked (admission, shutdown, its deadline
        already passed): its Event, queued; errorCode the AWS code, else the gRPC code's name."""
        try:
            rec = self.call(method, request_id, peer, (), None, None)
            message = _EARLY.get(code, code.name)
            rec.auditor.queue(rec.facts.refusal(aws_code or code.name, message))
        except Exception as e:  # noqa: BLE001 - the refusal is what the caller gets
            log.error("audit: the event of a refused %s was not recorded (%s)", method,
                      type(e).__name__)  # fmt: skip

    def refused(self, rec: CallAudit | None, exc: ServiceError, *facts: Any) -> None:
        """A call that ended in a domain error (denied, not found, ...): its Event, queued."""
        try:
            rec = rec or self.call(*facts)
            rec.auditor.queue(rec.facts.event(None, exc))
        except Exception as e:  # noqa: BLE001 - the call's own error is what the caller gets
            what = facts[0] if facts else "call"
            log.error("audit: the event of a failed %s was not recorded (%s)", what,
                      type(e).__name__)  # fmt: skip


class CallAudit:
    __slots__ = ("auditor", "facts", "_reading", "_hold")

    def __init__(self, auditor: Auditor, facts: CallFacts, withheld: bool = False) -> None:
        """withheld: the response may carry secret material (it waits for its Event)."""
        self.auditor, self.facts = auditor, facts
        self._reading = read_only(facts.method)
        self._hold = self._reading or withheld

    async def before(self) -> bool:
        """Before the handler: a mutating call's Request record, written (False: refuse)."""
        if self._reading:
            return True
        return await self.auditor.write(self.facts.request_record())

    async def after(self, response: Any) -> bool:
        """After the handler: the Event; a read's, or a response holding secret material, is
        written before the response goes out (False: refuse, the response is dropped)."""
        render = self.facts.event(response, None)
        if self._hold:
            return await self.auditor.write(render)
        self.auditor.queue(render)
        return True
