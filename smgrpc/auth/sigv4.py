"""AWS Signature Version 4 verification of the AWS JSON 1.1 listener's HTTP requests.

`SigV4Verifier.verify(SignedRequest)` gives the Principal of a request signed (the
`Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` form
botocore sends) by an Active access key of an existing user, else raises the core.errors
class of AWS's code with AWS's text. Checks, in AWS's order (scratchstack-aws-signature's
error-ordering test, dynalite, live-AWS probes):

1. no Authorization header: MissingAuthenticationTokenException "Missing Authentication
   Token" (a coral JSON service's answer to an unsigned call); two: IncompleteSignature.
2. algorithm other than AWS4-HMAC-SHA256, a part without "=", a missing Credential /
   Signature / SignedHeaders part or a missing X-Amz-Date/Date header:
   IncompleteSignatureException, AWS's wording. AWS appends "Authorization=<the header>":
   we never echo the header (nor a part of it that might be a pasted secret).
3. `host` (or `:authority`) and the date header used must be signed:
   InvalidSignatureException "'Host' or ':authority' must be a 'SignedHeader' in the AWS
   Authorization." (same form for 'X-Amz-Date' / 'Date'). Ours, stricter than AWS: so must
   `x-amz-target` (it names the operation: a signature over host and date alone could be
   replayed as another operation) and `content-type`, when the request has them, in the same
   form: "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization." botocore and
   the AWS CLI always sign both.
4. the date in ISO-8601 basic format (IncompleteSignature), within +-skew of the clock:
   InvalidSignatureException "Signature expired: <t> is now earlier than <now-5min>
   (<now> - 5 min.)" / "Signature not yet current: <t> is still later than <now+5min>
   (<now> + 5 min.)".
5. Credential of 5 elements (IncompleteSignature), scoped to this Region, `secretsmanager`,
   `aws4_request` and the request's date: InvalidSignatureException with live AWS's texts,
   each ending ". " and concatenated ("Credential should be scoped to a valid region. ").
6. the key id known, Active, its user in the current IAM snapshot, no session token:
   UnrecognizedClientException "The security token included in the request is invalid."
7. x-amz-content-sha256, if sent, equal to sha256(body); the canonical request (exactly
   botocore's: method, dot-segment-free quoted path, sorted query pairs, the SignedHeaders'
   values trimmed with inner whitespace collapsed and repeats joined by ",", sha256(body)),
   the string to sign, HMAC-SHA256 under the derived key, `hmac.compare_digest`: else
   InvalidSignatureException "The request signature we calculated does not match ...".
   Never the canonical request or the string to sign in the message (some AWS services
   send both back).
8. the replay guard (auth/replay.py): a signed request accepted once is refused again
   within its window: InvalidSignatureException with REPLAYED (ours).

Replays and real SDKs (measured with botocore 1.44.8's own signer and client):
botocore does NOT sign `amz-sdk-invocation-id` nor `amz-sdk-request` (handlers.
add_retry_headers sets both after the signer ran; SignedHeaders is
`content-type;host;x-amz-date;x-amz-target`), and X-Amz-Date has a resolution of one
second, so two identical boto3 calls in the same second (a polling loop, two threads
reading one secret, a retry within the second) carry the very same signature. A guard keyed
on the signature alone would refuse real SDK traffic. The replay key is therefore the
signature plus those two headers' values: each SDK call has a fresh invocation id (uuid4)
and each retry a new attempt number, so real clients are never refused, and a verbatim
replay (a captured request sent again) is. Against boto3 traffic that is as far as a guard
can go: the two headers are unsigned, so an attacker who alters them is not caught (the
5-minute window and TLS remain the defence, as on AWS itself, which keeps no replay cache).
SDKs whose signer covers amz-sdk-invocation-id get the full guarantee (measured here for
botocore only; other SDKs not checked). A raw client sending neither header (curl
--aws-sigv4) gets an identical request in the same second refused: REPLAYED says why.

Cost: the stored secret is opened (AccessKeyVault.open) only to derive the signing key,
cached per (access key object, date): once per key per day while the key object is the
same (an IAM change that leaves the key alone keeps its object); region and service are the
verifier's own. The plaintext secret is not kept. Bounded caches, no logging of any
credential material.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import quote

from smgrpc.auth.replay import REPLAY_FULL, REPLAY_KEY_FULL, REPLAYED, ReplayGuard, Verdict
from smgrpc.core.errors import (
    IncompleteSignature,
    InvalidSignature,
    MissingAuthenticationToken,
    Throttling,
    Unauthenticated,
)
from smgrpc.core.iam.directory import directory
from smgrpc.core.iam.model import AccessKey, IamState, Principal
from smgrpc.core.ports import Clock
from smgrpc.crypto.access_keys import AccessKeyError, AccessKeyVault, StoredAccessKey

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MAX_AUTHORIZATION = 8192  # longer is refused before any parsing
MAX_SIGNING_KEYS = 10_000

MISSING_TOKEN = "Missing Authentication Token"
UNRECOGNIZED = "The security token included in the request is invalid."
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)
PAYLOAD_MISMATCH = "The provided 'x-amz-content-sha256' header does not match what was computed."
TWO_HEADERS = "The request has more than one Authorization header."
NOT_PAIR = (
    "Authorization header parts must be key=value pairs (missing equal-sign); "
    "the header is not shown."
)
_REQUIRES = "Authorization header requires '{}' parameter."
_REQUIRES_DATE = (
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
)
_MUST_SIGN = "'{}' must be a 'SignedHeader' in the AWS Authorization."
_HOST_UNSIGNED = _MUST_SIGN.format("Host' or ':authority")
_MUST_SIGN_IF_SENT = (("x-amz-target", "X-Amz-Target"), ("content-type", "Content-Type"))
_ISO_BASIC = "%Y%m%dT%H%M%SZ"
_ALG_RE = re.compile(r"[A-Za-z0-9-]{1,32}")
_DATE_RE = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z")
_ECHO_RE = re.compile(r"[ -~]{1,32}")  # printable ASCII, short (date values only)
_SDK_HEADERS = ("amz-sdk-invocation-id", "amz-sdk-request")


@dataclass(frozen=True, slots=True, repr=False)
class SignedRequest:
    """One HTTP request as received: header names lower-cased, in arrival order."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __repr__(self) -> str:
        return f"SignedRequest({self.method} {self.path[:64]!r}, access_key_id={_key_id(self)!r})"

    __str__ = __repr__


def _key_id(req: SignedRequest) -> str:
    """The Credential's key id, for reprs only (never more of the header)."""
    for name, value in req.headers:
        if name == "authorization":
            m = re.search(r"Credential=([A-Z0-9]{16,128})/", value[:512])
            return m.group(1) if m else "?"
    return "-"


def _echo(text: str) -> str:
    """A date value as AWS echoes it, if it is short printable ASCII (a date is at most 29
    characters; a pasted 40-character secret is never shown)."""
    return f"'{text}'" if _ECHO_RE.fullmatch(text) else f"a value of {len(text)} characters"


def _iso(t: int) -> str:
    return time.strftime(_ISO_BASIC, time.gmtime(t))


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60} min" if s % 60 == 0 else f"{s} sec"


def canonical_path(path: str) -> str:
    """botocore's canonical URI: dot segments and empty segments removed, then quoted."""
    if path == "/" or not path:
        return "/"
    out: list[str] = []
    for seg in path.split("/"):
        if seg == "..":
            if out:
                out.pop()
        elif seg and seg != ".":
            out.append(seg)
    first = "/" if path[0] == "/" else ""
    last = "/" if path[-1] == "/" and out else ""
    return quote(first + "/".join(out) + last, safe="/~")


def canonical_query(query: str) -> str:
    """botocore's canonical query of a URL: pairs split at the first "=", sorted."""
    if not query:
        return ""
    pairs = sorted(p.partition("=")[::2] for p in query.split("&"))
    return "&".join(f"{k}={v}" for k, v in pairs)


class _Auth(NamedTuple):
    credential: str
    signed: str
    signature: str


def parse_authorization(value: str, has_date: bool) -> _Auth:
    """The three parts of an AWS4-HMAC-SHA256 Authorization value, else IncompleteSignature."""
    if len(value) > MAX_AUTHORIZATION:
        raise IncompleteSignature("The Authorization header is too long.")
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        shown = f": '{algorithm}'" if _ALG_RE.fullmatch(algorithm) else ""
        raise IncompleteSignature(f"Unsupported AWS 'algorithm'{shown}.")
    parts: dict[str, str] = {}
    for part in rest.replace(",", " ").split():
        key, eq, val = part.partition("=")
        if not eq:
            raise IncompleteSignature(NOT_PAIR)
        parts.setdefault(key, val)
    names = ("Credential", "Signature", "SignedHeaders")
    missing = [_REQUIRES.format(p) for p in names if not parts.get(p)]
    if not has_date:
        missing.append(_REQUIRES_DATE)
    if missing:
        raise IncompleteSignature(" ".join(missing))
    return _Auth(parts["Credential"], parts["SignedHeaders"], parts["Signature"])


@functools.lru_cache(maxsize=256)
def parse_date(value: str) -> tuple[int, str]:
    """(epoch seconds, ISO-8601 basic form) of an X-Amz-Date or an RFC 1123 Date value
    (memoised: the requests of one second share their date)."""
    m = _DATE_RE.fullmatch(value)
    try:
        if m is not None:
            y, mo, d, h, mi, s = map(int, m.groups())
            return int(datetime(y, mo, d, h, mi, s, tzinfo=UTC).timestamp()), value
        if len(value) <= 64 and "," in value:
            t = int(parsedate_to_datetime(value).timestamp())
            return t, _iso(t)
    except (ValueError, TypeError, OverflowError):
        pass
    raise IncompleteSignature(
        f"Date must be in ISO-8601 'basic format'. Got {_echo(value)}. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


class SigV4Verifier:
    """Verifies SigV4 requests of one Region against its IAM snapshot (see module doc)."""

    def __init__(
        self,
        region: str,
        iam_state: Callable[[], IamState],
        vault: AccessKeyVault,
        clock: Clock,
        service: str = "secretsmanager",
        skew: float = 300.0,
        replay_window: float = 300.0,
        replay: ReplayGuard | None = None,
    ) -> None:
        """replay: the guard to record into (default: a new one, `replay_window` long)."""
        self.region = region
        self.service = service
        self.iam_state = iam_state
        self.vault = vault
        self.clock = clock
        self.skew = skew
        self.replay = replay if replay is not None else ReplayGuard(replay_window)
        if self.replay.retention < skew:  # a replay late in the skew would not be caught
            raise ValueError("the replay guard must keep signatures at least `skew` seconds")
        # (key id, yyyymmdd) -> (the AccessKey object it was derived for, kSigning)
        self._signing: dict[tuple[str, str], tuple[AccessKey, bytes]] = {}

    def __repr__(self) -> str:
        return f"SigV4Verifier({self.region!r}, {self.service!r}, {self.replay!r})"

    def verify(self, req: SignedRequest) -> Principal:
        """The principal of a correctly signed request by an Active access key (see module)."""
        headers: dict[str, list[str]] = {}
        for name, value in req.headers:
            headers.setdefault(name, []).append(value)
        auths = headers.get("authorization")
        if not auths:
            raise MissingAuthenticationToken(MISSING_TOKEN)
        if len(auths) > 1:
            raise IncompleteSignature(TWO_HEADERS)
        date_name = "x-amz-date" if "x-amz-date" in headers else "date"
        date_value = headers.get(date_name)
        auth = parse_authorization(auths[0], bool(date_value))
        assert date_value is not None
        signed = auth.signed.split(";")
        names = {n.lower() for n in signed}
        if "host" not in names and ":authority" not in names:
            raise InvalidSignature(_HOST_UNSIGNED)
        if date_name not in names:
            raise InvalidSignature(
                _MUST_SIGN.format("X-Amz-Date" if date_name[0] == "x" else "Date")
            )
        for name, shown in _MUST_SIGN_IF_SENT:
            if name in headers and name not in names:
                raise InvalidSignature(_MUST_SIGN.format(shown))
        t, iso = parse_date(date_value[0])
        self._check_time(t)
        key, principal, k_signing, scope = self._credential(auth.credential, iso, headers)
        body_hash = hashlib.sha256(req.body).hexdigest()
        claimed = headers.get("x-amz-content-sha256")
        if claimed is not None and claimed[0] != body_hash:
            raise InvalidSignature(PAYLOAD_MISMATCH)
        canonical = "\n".join(
            (
                req.method,
                canonical_path(req.path),
                canonical_query(req.query),
                "".join(f"{n}:{_value(headers.get(n.lower()))}\n" for n in signed),
                auth.signed,
                body_hash,
            )
        )
        digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
        to_sign = f"{ALGORITHM}\n{iso}\n{scope}\n{digest}"
        expected = hmac.digest(k_signing, to_sign.encode(), "sha256").hex().encode()
        given = auth.signature.encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(expected, given):
            raise InvalidSignature(MISMATCH)
        self._admit(given, headers, t, key.access_key_id)
        return principal

    def recheck(self, req: SignedRequest) -> None:
        """A request `verify` accepted, authenticated again (handlers.wrap does after a
        Prepare): its access key must still be Active, its user still there, in the current
        IAM snapshot, else UnrecognizedClientException. No signature work, no replay record."""
        auth = next((v for n, v in req.headers if n == "authorization"), "")
        key_id = parse_authorization(auth, True).credential.partition("/")[0]
        got = directory(self.iam_state()).access_key(key_id)
        if got is None or got[0].status != "Active":
            raise Unauthenticated(UNRECOGNIZED)

    def _check_time(self, t: int) -> None:
        """t within +-skew of the clock, compared unrounded: the replay guard keeps what
        this accepts (it forgets only t + retention < now, and retention >= skew)."""
        now = self.clock.now()
        if now - self.skew <= t <= now + self.skew:
            return
        span, skew = _duration(self.skew), int(self.skew)
        if t < now - self.skew:  # the clock shown rounded up, so t < the bound shown
            up = math.ceil(now)
            raise InvalidSignature(
                f"Signature expired: {_iso(t)} is now earlier than {_iso(up - skew)} "
                f"({_iso(up)} - {span}.)"
            )
        down = math.floor(now)
        raise InvalidSignature(
            f"Signature not yet current: {_iso(t)} is still later than {_iso(down + skew)} "
            f"({_iso(down)} + {span}.)"
        )

    def _credential(
        self, credential: str, iso: str, headers: dict[str, list[str]]
    ) -> tuple[AccessKey, Principal, bytes, str]:
        """(key, principal, kSigning, scope) of a well-scoped Credential of a usable key."""
        parts = credential.split("/")
        if len(parts) != 5:
            raise IncompleteSignature(
                "Credential must have exactly 5 slash-delimited elements, e.g. "
                f"keyid/date/region/service/term, got {len(parts)}."
            )
        key_id, day, region, service, term = parts
        want_day = iso[:8]
        wrong = []
        if region != self.region:
            wrong.append("Credential should be scoped to a valid region. ")
        if service != self.service:
            wrong.append(f"Credential should be scoped to correct service: '{self.service}'. ")
        if term != TERMINATOR:
            wrong.append(f"Credential should be scoped with a valid terminator: '{TERMINATOR}'. ")
        if day != want_day:
            shown = f": '{day}' != '{want_day}', from '{iso}'" if day.isdigit() else ""
            wrong.append(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                f"date from HTTP{shown}. "
            )
        if wrong:
            raise InvalidSignature("".join(wrong))
        got = directory(self.iam_state()).access_key(key_id)
        if got is None or got[0].status != "Active" or "x-amz-security-token" in headers:
            raise Unauthenticated(UNRECOGNIZED)
        key, principal = got
        return key, principal, self._signing_key(key, day), "/".join(parts[1:])

    def _signing_key(self, key: AccessKey, day: str) -> bytes:
        """kSigning of (key, day, region, service): derived once per key object and day."""
        hit = self._signing.get((key.access_key_id, day))
        if hit is not None and hit[0] is key:
            return hit[1]
        stored = StoredAccessKey(key.access_key_id, self.vault.account, key.sealed, key.digest)
        try:
            k = ("AWS4" + self.vault.open(stored)).encode()
        except AccessKeyError:
            raise Unauthenticated(UNRECOGNIZED) from None  # fail closed, says nothing more
        for part in (day, self.region, self.service, TERMINATOR):
            k = hmac.digest(k, part.encode(), "sha256")
        if len(self._signing) >= MAX_SIGNING_KEYS:
            self._signing.clear()
        self._signing[(key.access_key_id, day)] = (key, k)
        return k

    def _admit(self, signature: bytes, headers: dict[str, list[str]], t: int, key_id: str) -> None:
        """Record the request in the replay guard, or refuse it (replayed / guard full /
        this key holds its share of the guard)."""
        sdk = "\n".join(",".join(headers.get(name, ())) for name in _SDK_HEADERS)
        key = signature + b"\n" + sdk.encode("utf-8", "surrogatepass")
        digest = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")
        verdict = self.replay.admit(digest, t, self.clock.now(), key_id)
        if verdict is Verdict.REPLAYED:
            raise InvalidSignature(REPLAYED)
        if verdict is Verdict.FULL:
            raise Throttling(REPLAY_FULL)
        if verdict is Verdict.KEY_FULL:
            raise Throttling(REPLAY_KEY_FULL)


def _value(values: list[str] | None) -> str:
    """A signed header's canonical value: each trimmed, inner whitespace collapsed, ","."""
    if not values:
        return ""
    return ",".join(" ".join(v.split()) for v in values)
