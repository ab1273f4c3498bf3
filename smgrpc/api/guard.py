"""Authentication and authorization of every call, in one place before the handler.

`handlers.wrap` calls `authenticate(context, metadata)` after admission, then `authorize(...)`,
then sets `calls.CURRENT`. Authentication: a verified client certificate's identity (the mTLS hook,
auth/mtls.py `identity(auth_context)`, when one is configured), else the Bearer access key of
the `authorization` metadata (strict parsing; the id looked up in the current IAM snapshot;
Active status; the secret checked in constant time against its keyed digest). Any failure is
UnrecognizedClientException with AWS's one message; the header is never logged.

Authorization: each service supplies a planner (method, request) → (the `Needed` requests
of the call, the resource policy text of its resource). Every request must be allowed by the
caller's identity policies or the resource policy (evaluate: explicit Deny wins). A denial is
AccessDeniedException worded by `Decision.denied_message` (AWS's words). Resource policies are
compiled once per text (an LRU): a changed policy is a new text, so it is seen at once.

Before both, `wrap` asks `ServiceGuard.fast`: an identical Bearer call whose allow was cached,
while the IAM snapshot and the secret are the very objects it was decided on (see _steady).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from smgrpc.api.calls import Authorized
from smgrpc.api.handlers import Metadata, Prepare
from smgrpc.auth import bearer
from smgrpc.core.errors import AccessDenied, MalformedPolicyDocument, Unauthenticated
from smgrpc.core.iam.directory import Directory, directory
from smgrpc.core.iam.model import AccessKey, IamState, Principal
from smgrpc.core.policy import Decision, Policy, Request, evaluate, parse_policy
from smgrpc.core.policy.context import Call, Caller, Needed, needs
from smgrpc.core.ports import Clock
from smgrpc.crypto.access_keys import AccessKeyVault, VaultMinter

Plan = tuple[Sequence[Needed], str | None]
Planner = Callable[[str, Any], Plan]
Identity = Callable[[Any], str | None]  # auth/mtls.py identity(auth_context) (hD)
_RESOURCE_ACTIONS = "secretsmanager:"
_DENY_ALL = parse_policy(
    '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",'
    '"Action":"*","Resource":"*"}]}',
    kind="resource",
    name="<uncompilable stored policy>",
)


def unrecognized(reason: str = "") -> Unauthenticated:
    """UnrecognizedClientException with AWS's message (the reason is never shown)."""
    return Unauthenticated(bearer.UNRECOGNIZED)


# Compiled resource policies by text (a changed policy is a new text). Compiling one of a
# few KB takes ~0.1 ms, a 20 KB one of ~1,100 patterns ~6 ms (scripts/bench_policy.py): above
# INLINE_CHARS a call's first sight of a policy still compiles it in a worker thread
# (handlers.Prepare), off the loop.
_compiled: dict[str, Policy] = {}
MAX_COMPILED = 4096
# A compiled policy takes ~20x its text in memory (a 20 KB one ~470 KB): bound the text too.
MAX_COMPILED_CHARS = 4 * 1024 * 1024
_compiled_chars = 0
MAX_VERIFIED = 10_000  # verified credentials remembered (per exact authorization value)
INLINE_CHARS = 2048


def resource_policy(text: str) -> Policy:
    """A secret's resource policy, compiled once per text (stored text was validated)."""
    got = _compiled.get(text)
    if got is None:
        try:
            got = parse_policy(text, kind="resource", max_chars=1 << 20)
        except MalformedPolicyDocument:
            got = _DENY_ALL  # fail closed
        global _compiled_chars
        if len(_compiled) >= MAX_COMPILED or _compiled_chars + len(text) > MAX_COMPILED_CHARS:
            _compiled.clear()
            _compiled_chars = 0
        _compiled[text] = got
        _compiled_chars += len(text)
    return got


def _policy_now(text: str, inline: bool) -> Policy:
    """The compiled policy, or Prepare (compile it off the loop) for a large unseen one."""
    got = _compiled.get(text)
    if got is not None:
        return got
    if inline or len(text) <= INLINE_CHARS:
        return resource_policy(text)
    raise Prepare(lambda: resource_policy(text))


def source_ip(peer: str) -> str | None:
    """The address part of grpc's peer string: ipv4:1.2.3.4:5 / ipv6:[::1]:5 (else None)."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0] or None
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]") or None
    return None


def bearer_value(md: Metadata) -> str | None:
    """The call's one `authorization` value (None: none, several, or not text). grpc hands
    metadata keys over lower-cased (HTTP/2 allows no other)."""
    found: str | bytes | None = None
    for k, v in md:
        if k == bearer.HEADER:
            if found is not None:
                return None
            found = v
    return found if isinstance(found, str) else None


def _secure(context: Any) -> bool:
    types = context.auth_context().get("transport_security_type") or ()
    return any(t not in (b"insecure", b"local") for t in types)


@dataclass(frozen=True, slots=True)
class Denial:
    """Why a request is denied (evaluator request + decision): its message is AWS's."""

    request: Request
    decision: Decision

    @property
    def message(self) -> str:
        return self.decision.denied_message(self.request)


def check(
    principal: Principal,
    caller: Caller,
    needed: Sequence[Needed],
    policy_text: str | None,
    inline: bool = True,
) -> Denial | None:
    """The first request of `needed` the policies do not allow (None: all allowed).
    inline=False: a large policy not compiled yet raises handlers.Prepare."""
    policy = _policy_now(policy_text, inline) if policy_text else None
    for need in needed:
        req = need.request(caller)
        res = policy if need.action.startswith(_RESOURCE_ACTIONS) else None
        decision = evaluate(req, principal.policies, res)
        if not decision.allowed:
            return Denial(req, decision)
    return None


class Guard:
    """Authenticates callers against the current IAM snapshot (shared by every service)."""

    def __init__(
        self,
        iam_state: Callable[[], IamState],
        vault: AccessKeyVault,
        clock: Clock,
        identity: Identity | None = None,
    ) -> None:
        self.iam_state = iam_state
        self._verify = VaultMinter(vault).verify
        self.clock = clock
        self.identity = identity  # hook: mTLS client-certificate identity (auth/mtls.py)
        self._peers: dict[str, tuple[str | None, bool]] = {}
        # The exact `authorization` value -> (the snapshot's Directory, the stored key object,
        # its principal) of a credential already verified. A hit needs the very same Directory
        # (any IAM change makes a new snapshot, so a revoked or deactivated key is checked
        # afresh on the next call) and skips parsing and the keyed digest (~4.5 us, OpenSSL's
        # HMAC set-up). Keys are only values proven right, held in the memory that receives
        # them with every call anyway (str hashing is keyed per process: a lookup reveals
        # nothing of them); bounded.
        self._verified: dict[str, tuple[Directory, AccessKey, Principal]] = {}
        self._verified_in: Directory | None = None

    def authenticate(self, context: Any, md: Metadata) -> Principal:
        """The caller's principal, or Unauthenticated (UnrecognizedClientException).
        md: the call's invocation metadata (handlers.wrap reads it once per call)."""
        snap = directory(self.iam_state())
        if self.identity is not None:
            arn = self.identity(context.auth_context())
            if arn is not None:
                found = snap.principal(arn)
                if found is None:
                    raise unrecognized("certificate names no IAM user or role")
                return found
        header = bearer_value(md)
        if header is not None:
            hit = self._verified.get(header)
            if hit is not None and hit[0] is snap:
                return hit[2]
        try:
            cred = bearer.from_metadata(md)
        except bearer.CredentialError as exc:
            raise unrecognized(exc.reason) from None
        got = snap.access_key(cred.access_key_id)
        if got is None:
            raise unrecognized("unknown access key")
        key, principal = got
        if not self._verify(key, cred.secret_access_key):
            raise unrecognized("wrong secret")
        if key.status != "Active":
            raise unrecognized("inactive access key")
        if header is not None:
            if len(self._verified) >= MAX_VERIFIED or self._verified_in is not snap:
                # Entries of older snapshots can never hit again: drop them (and the
                # Directories and credentials they hold) rather than keep them until bounded.
                self._verified.clear()
                self._verified_in = snap
            self._verified[header] = (snap, key, principal)
        return principal

    def verified_as(self, header: str, state: IamState, principal: Principal) -> bool:
        """Whether `header` is a Bearer credential verified in snapshot `state` as `principal`."""
        hit = self._verified.get(header)
        return hit is not None and hit[0] is directory(state) and hit[2] is principal

    def peer_facts(self, context: Any, peer: str) -> tuple[str | None, bool]:
        """(aws:SourceIp, aws:SecureTransport) of the call's connection (cached per peer; peer:
        the call's context.peer(), read once per call by handlers.wrap).

        Caching SecureTransport by peer address alone is sound because every listener of one
        server has the same transport security (app._add_port: all TLS when a certificate is
        configured, all plaintext otherwise), so a reused client port can't carry the answer of
        a TLS connection to a plaintext one."""
        seen = self._peers.get(peer)
        if seen is None:
            seen = (source_ip(peer), _secure(context))
            if len(self._peers) > 10_000:
                self._peers.clear()
            self._peers[peer] = seen
        return seen

    def caller(self, principal: Principal, context: Any, peer: str) -> Caller:
        """The global request keys: source IP, secure transport, current time."""
        return self.make_caller(principal, self.peer_facts(context, peer))

    def make_caller(self, principal: Principal, seen: tuple[str | None, bool]) -> Caller:
        return Caller(
            principal.arn,
            principal.account,
            principal.tags,
            seen[0],
            seen[1],
            datetime.fromtimestamp(self.clock.now(), UTC),
        )


# What a planner's cache key pins: the objects whose identity the key names (the principal,
# the secret): a hit counts only if they are the very same objects (any change replaces them).
CacheKey = tuple[tuple[object, ...], object]
_Steady = tuple[IamState, object, Authorized]


class ServiceGuard:
    """The guard of one service: its planner, plus per-item checks for listings.

    Decisions are cached (an allow only): keyed by the principal and the secret objects (a new
    IAM snapshot that changes the principal, or any change to the secret, its tags or its
    policy, makes new objects: the next call is evaluated afresh), the request parameters,
    source IP and transport; never when a policy involved reads the clock.
    """

    MAX_CACHED = 50_000

    def __init__(
        self,
        guard: Guard,
        planner: Planner,
        item: Callable[[str, Any], Call] | None = None,
        lockout: Callable[[str, Any, Principal, Caller], str | None] | None = None,
        cache_key: Callable[[str, Any], CacheKey | None] | None = None,
    ) -> None:
        """cache_key: (hashable key, pinned object) of a request, None if not cacheable."""
        self.guard = guard
        self.planner = planner
        self.item = item
        self.lockout = lockout
        self.cache_key = cache_key
        self._allowed: dict[tuple[object, ...], tuple[Principal, object]] = {}
        # The steady state: (the call's one authorization value, its peer, the request key)
        # -> (the IAM snapshot, the pinned secret, the call's Authorized) of a Bearer call
        # whose allow was cached above. A hit (`fast`) needs the very same IAM snapshot
        # object (any IAM change makes a new one: a revoked or deactivated key, a changed
        # policy or principal is decided afresh on the next call) and the very same secret
        # object (any change to it, its tags or its policy makes a new one); it skips
        # authentication, the peer facts and the decision key. Never filled when client
        # certificates can name the caller (the header alone does not then).
        self._steady: dict[tuple[object, ...], _Steady] = {}
        self._steady_in: IamState | None = None
        self._items = self._item_denied if item is not None else None

    def _authorized(
        self, principal: Principal, caller: Caller | Callable[[], Caller]
    ) -> Authorized:
        """caller: a Caller, or how to make one when asked (a cached decision needs none)."""
        return Authorized(principal, caller, self._items)

    def _item_denied(
        self, principal: Principal, caller: Caller, operation: str, secret: Any
    ) -> str | None:
        """`Authorized.denied`: the denial message of one listed secret, or None."""
        assert self.item is not None
        call = self.item(operation, secret)
        policy = secret.policy if call.secret is not None else None
        denial = check(principal, caller, needs(call), policy)
        return None if denial is None else denial.message

    def authenticate(self, context: Any, md: Metadata) -> Principal:
        return self.guard.authenticate(context, md)

    def fast(self, md: Metadata, peer: str, method: str, request: Any) -> Authorized | None:
        """The allow of an identical earlier Bearer call whose grounds are unchanged (None:
        authenticate and authorize as usual)."""
        if not self._steady or self.cache_key is None:
            return None
        header = bearer_value(md)
        got = self.cache_key(method, request) if header is not None else None
        if got is None:
            return None
        hit = self._steady.get((header, peer, got[0]))
        if hit is None or hit[0] is not self.guard.iam_state() or hit[1] is not got[1]:
            return None
        return hit[2]

    def _remember(
        self,
        md: Metadata,
        peer: str,
        got: CacheKey,
        principal: Principal,
        facts: tuple[str | None, bool],
    ) -> None:
        """Record a cached allow for `fast` (Bearer callers only, see _steady)."""
        header = bearer_value(md) if self.guard.identity is None else None
        if header is None:
            return
        state = self.guard.iam_state()
        if not self.guard.verified_as(header, state, principal):
            return
        if self._steady_in is not state or len(self._steady) >= self.MAX_CACHED:
            self._steady.clear()  # older snapshots' entries can never hit again
            self._steady_in = state
        allowed = self._authorized(principal, partial(self.guard.make_caller, principal, facts))
        self._steady[(header, peer, got[0])] = (state, got[1], allowed)

    def authorize(
        self,
        principal: Principal,
        method: str,
        request: Any,
        context: Any,
        peer: str,
        md: Metadata = (),
        inline: bool = False,
    ) -> Authorized:
        """Every request of the call allowed, else AccessDenied; the caller for the handler.
        md: the call's metadata (an allow that may be cached is remembered for `fast`)."""
        facts = self.guard.peer_facts(context, peer)
        got = self.cache_key(method, request) if self.cache_key is not None else None
        key: tuple[object, ...] | None = None
        if got is not None:
            key = (id(principal), *facts, *got[0])
            hit = self._allowed.get(key)
            if hit is not None and hit[0] is principal and hit[1] is got[1]:
                # Decided for another connection of this caller (same source and transport):
                # this one gets its steady entry too, or it would come here on every call.
                self._remember(md, peer, got, principal, facts)
                return self._authorized(
                    principal, partial(self.guard.make_caller, principal, facts)
                )
        caller = self.guard.make_caller(principal, facts)
        needed, policy = self.planner(method, request)
        denial = check(principal, caller, needed, policy, inline=inline)
        if denial is not None:
            raise AccessDenied(denial.message, resource=denial.request.resource)
        if self.lockout is not None:
            locked = self.lockout(method, request, principal, caller)
            if locked is not None:
                raise AccessDenied(locked)
        if (
            key is not None
            and got is not None
            and all(p.clock_free for p in principal.policies)
            and (policy is None or resource_policy(policy).clock_free)
        ):
            if len(self._allowed) >= self.MAX_CACHED:
                self._allowed.clear()
            self._allowed[key] = (principal, got[1])
            self._remember(md, peer, got, principal, facts)
        # A caller made when asked (each ask: the time of asking as aws:CurrentTime), not the
        # one decided with: a stream's per-event checks must see the clock move on.
        return self._authorized(principal, partial(self.guard.make_caller, principal, facts))
