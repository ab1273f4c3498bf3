"""SigV4 verification of requests signed by botocore's own signer: each acceptance and each
refusal with AWS's exact code and text (auth/sigv4.py)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace

import pytest

from smgrpc.auth import sigv4
from smgrpc.auth.sigv4 import SignedRequest, canonical_path, canonical_query
from smgrpc.core.errors import ServiceError
from smgrpc.core.iam.model import IamState
from smgrpc.crypto.access_keys import AccessKeyVault, StoredAccessKey
from tests.auth.sigv4_helpers import (
    AMZ_T0,
    BODY,
    INACTIVE_KID,
    INACTIVE_SECRET,
    KID,
    ORPHAN_KID,
    ORPHAN_SECRET,
    SECRET,
    T0,
    World,
    header,
    sign,
    signature,
    with_auth,
    with_header,
)

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for "
    "details."
)
UNRECOGNIZED = "The security token included in the request is invalid."


@pytest.fixture
def world() -> World:
    return World()


def refused(world: World, req: SignedRequest) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        world.verifier.verify(req)
    return info.value


def assert_refused(world: World, req: SignedRequest, code: str, message: str) -> None:
    err = refused(world, req)
    assert (err.aws_code, err.message) == (code, message)


def test_good_signature_gives_the_principal(world: World) -> None:
    principal = world.verifier.verify(sign())
    assert principal.arn == "arn:aws:iam::123456789012:user/alice"
    assert principal.account == "123456789012"


def test_empty_body_and_a_path_with_query_are_verified_as_botocore_signs_them(
    world: World,
) -> None:
    assert world.verifier.verify(sign(b"")).name == "alice"
    req = sign(path="/a/./b//c/../d%20e?b=2&a=1&a=0")
    assert (req.path, req.query) == ("/a/./b//c/../d%20e", "b=2&a=1&a=0")
    assert world.verifier.verify(req).name == "alice"


def test_canonical_path_and_query_match_botocore() -> None:
    assert canonical_path("/") == "/"
    assert canonical_path("") == "/"
    assert canonical_path("/a/./b//c/../d%20e/") == "/a/b/d%2520e/"
    assert canonical_query("b=2&a=1&a=0&c") == "a=0&a=1&b=2&c="


def test_header_values_are_trimmed_and_inner_whitespace_collapsed(world: World) -> None:
    req = sign(extra={"X-Custom": "  a   b\t c  "})
    assert "x-custom" in header(req, "authorization")
    assert world.verifier.verify(req).name == "alice"
    assert (
        world.verifier.verify(
            with_header(sign(t=T0 + 1, extra={"X-Custom": "a b c"}), "x-custom", " a  b  c ")
        ).name
        == "alice"
    )


def test_repeated_signed_header_joined_by_comma(world: World) -> None:
    base = sign(extra={"X-Multi": "one,two"})
    hs = [(k, v) for k, v in base.headers if k != "x-multi"] + [
        ("x-multi", "one"),
        ("x-multi", "two"),
    ]
    req = SignedRequest(base.method, base.path, base.query, tuple(hs), base.body)
    assert world.verifier.verify(req).name == "alice"


# ---- every part wrong by one character ----


def _one_off(text: str) -> str:
    """`text` with its last character changed."""
    return text[:-1] + ("b" if text[-1] != "b" else "c")


def test_signature_one_character_off(world: World) -> None:
    req = sign()
    sig = signature(req)
    assert_refused(world, with_auth(req, sig, _one_off(sig)), "InvalidSignatureException", MISMATCH)
    assert_refused(world, with_auth(req, sig, sig.upper()), "InvalidSignatureException", MISMATCH)
    assert_refused(world, with_auth(req, sig, sig[:-1]), "InvalidSignatureException", MISMATCH)


def test_algorithm_one_character_off(world: World) -> None:
    req = with_auth(sign(), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA257")
    assert_refused(
        world,
        req,
        "IncompleteSignatureException",
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA257'.",
    )


def test_key_id_one_character_off_is_an_unknown_key(world: World) -> None:
    req = with_auth(sign(), f"Credential={KID}", f"Credential={_one_off(KID)}")
    assert_refused(world, req, "UnrecognizedClientException", UNRECOGNIZED)


def test_signed_with_a_secret_one_character_off(world: World) -> None:
    assert_refused(world, sign(secret=_one_off(SECRET)), "InvalidSignatureException", MISMATCH)


def test_signed_headers_one_character_off(world: World) -> None:
    req = with_auth(sign(), "x-amz-target,", "x-amz-targeu,")
    unsigned = "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
    assert_refused(world, req, "InvalidSignatureException", unsigned)  # test_sigv4_review
    req = with_auth(
        sign(),
        "content-type;host;x-amz-date;x-amz-target,",
        "content-type;host;x-amz-date;x-amz-target;x-amz-targeu,",
    )
    assert_refused(world, req, "InvalidSignatureException", MISMATCH)


@pytest.mark.parametrize(
    "name, value",
    [
        ("x-amz-target", "secretsmanager.GetSecretValuf"),
        ("content-type", "application/x-amz-json-1.0"),
        ("host", "127.0.0.1:4567"),
        ("x-amz-date", "20261201T120001Z"),
    ],
)
def test_a_signed_header_one_character_off(world: World, name: str, value: str) -> None:
    assert_refused(world, with_header(sign(), name, value), "InvalidSignatureException", MISMATCH)


def test_method_path_and_query_one_character_off(world: World) -> None:
    req = sign()
    for changed in (
        SignedRequest("PUT", req.path, req.query, req.headers, req.body),
        SignedRequest(req.method, "/x", req.query, req.headers, req.body),
        SignedRequest(req.method, req.path, "a=1", req.headers, req.body),
    ):
        assert_refused(world, changed, "InvalidSignatureException", MISMATCH)


def test_body_changed_after_signing(world: World) -> None:
    req = sign()
    changed = SignedRequest(
        req.method, req.path, req.query, req.headers, BODY.replace(b"db", b"dc")
    )
    assert_refused(world, changed, "InvalidSignatureException", MISMATCH)


# ---- what must be signed, the payload hash ----


def test_unsigned_host_is_refused(world: World) -> None:
    req = with_auth(sign(), "SignedHeaders=content-type;host;", "SignedHeaders=content-type;")
    assert_refused(
        world,
        req,
        "InvalidSignatureException",
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    )


def test_unsigned_date_is_refused(world: World) -> None:
    req = with_auth(sign(), "host;x-amz-date;", "host;")
    assert_refused(
        world,
        req,
        "InvalidSignatureException",
        "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
    )


def test_payload_hash_header_must_match_the_body(world: World) -> None:
    wrong = "0" * 64
    req = sign(extra={"X-Amz-Content-SHA256": wrong})
    assert header(req, "x-amz-content-sha256") == wrong
    assert_refused(
        world,
        req,
        "InvalidSignatureException",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    )
    right = sign(extra={"X-Amz-Content-SHA256": hashlib.sha256(BODY).hexdigest()})
    assert world.verifier.verify(right).name == "alice"


def test_unsigned_payload_is_refused(world: World) -> None:
    req = sign(extra={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    err = refused(world, req)
    assert err.aws_code == "InvalidSignatureException"


# ---- credential scope ----


def test_wrong_region_in_scope(world: World) -> None:
    assert_refused(
        world,
        sign(region="us-east-2"),
        "InvalidSignatureException",
        "Credential should be scoped to a valid region. ",
    )


def test_wrong_service_in_scope(world: World) -> None:
    assert_refused(
        world,
        sign(service="secretsmanageq"),
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'secretsmanager'. ",
    )


def test_wrong_region_and_service_together(world: World) -> None:
    assert_refused(
        world,
        sign(region="eu-west-1", service="sts"),
        "InvalidSignatureException",
        "Credential should be scoped to a valid region. "
        "Credential should be scoped to correct service: 'secretsmanager'. ",
    )


def test_wrong_terminator_and_date_in_scope(world: World) -> None:
    req = with_auth(sign(), "/aws4_request", "/aws4_requesu")
    assert_refused(
        world,
        req,
        "InvalidSignatureException",
        "Credential should be scoped with a valid terminator: 'aws4_request'. ",
    )
    req = with_auth(sign(), "/20261201/", "/20261202/")
    assert_refused(
        world,
        req,
        "InvalidSignatureException",
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '20261202' != '20261201', from '20261201T120000Z'. ",
    )


def test_credential_of_four_elements(world: World) -> None:
    req = with_auth(sign(), "/aws4_request", "")
    assert_refused(
        world,
        req,
        "IncompleteSignatureException",
        "Credential must have exactly 5 slash-delimited elements, e.g. "
        "keyid/date/region/service/term, got 4.",
    )


# ---- the clock: +-5 minutes, both directions ----


@pytest.mark.parametrize("offset", [-300, -1, 0, 1, 300])
def test_within_five_minutes_either_way_is_accepted(world: World, offset: int) -> None:
    world.clock.t = T0 + offset
    assert world.verifier.verify(sign()).name == "alice"


def test_expired_at_five_minutes_and_one_second(world: World) -> None:
    world.clock.t = T0 + 301
    assert_refused(
        world,
        sign(),
        "InvalidSignatureException",
        "Signature expired: 20261201T120000Z is now earlier than 20261201T120001Z "
        "(20261201T120501Z - 5 min.)",
    )


def test_not_yet_current_at_five_minutes_and_one_second(world: World) -> None:
    world.clock.t = T0 - 301
    assert_refused(
        world,
        sign(),
        "InvalidSignatureException",
        "Signature not yet current: 20261201T120000Z is still later than 20261201T115959Z "
        "(20261201T115459Z + 5 min.)",
    )


def test_date_not_in_basic_format(world: World) -> None:
    req = with_header(sign(), "x-amz-date", "2026-12-01T12:00:00Z")
    assert_refused(
        world,
        req,
        "IncompleteSignatureException",
        "Date must be in ISO-8601 'basic format'. Got '2026-12-01T12:00:00Z'. "
        "See http://en.wikipedia.org/wiki/ISO_8601",
    )


# ---- malformed Authorization headers ----


def test_no_authorization_header(world: World) -> None:
    req = with_header(sign(), "authorization", None)
    assert_refused(
        world, req, "MissingAuthenticationTokenException", "Missing Authentication Token"
    )


def test_two_authorization_headers(world: World) -> None:
    req = sign()
    twice = SignedRequest(
        req.method,
        req.path,
        req.query,
        (*req.headers, ("authorization", header(req, "authorization"))),
        req.body,
    )
    assert_refused(
        world,
        twice,
        "IncompleteSignatureException",
        "The request has more than one Authorization header.",
    )


@pytest.mark.parametrize(
    "drop, message",
    [
        ("Credential", "Authorization header requires 'Credential' parameter."),
        ("Signature", "Authorization header requires 'Signature' parameter."),
        ("SignedHeaders", "Authorization header requires 'SignedHeaders' parameter."),
    ],
)
def test_missing_part(world: World, drop: str, message: str) -> None:
    req = sign()
    auth = header(req, "authorization")
    alg, _, rest = auth.partition(" ")
    kept = ", ".join(p for p in rest.split(", ") if not p.startswith(drop + "="))
    assert_refused(
        world,
        with_header(req, "authorization", f"{alg} {kept}"),
        "IncompleteSignatureException",
        message,
    )


def test_every_part_and_the_date_missing(world: World) -> None:
    req = with_header(
        with_header(sign(), "x-amz-date", None), "authorization", "AWS4-HMAC-SHA256 Foo=Bar"
    )
    assert_refused(
        world,
        req,
        "IncompleteSignatureException",
        "Authorization header requires 'Credential' parameter. Authorization header requires "
        "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    )


def test_part_without_equal_sign(world: World) -> None:
    req = with_auth(sign(), "Signature=", "Signature")
    assert_refused(world, req, "IncompleteSignatureException", sigv4.NOT_PAIR)


def test_bearer_scheme_on_the_aws_listener(world: World) -> None:
    req = with_header(sign(), "authorization", f"Bearer {KID}:{SECRET}")
    assert_refused(
        world, req, "IncompleteSignatureException", "Unsupported AWS 'algorithm': 'Bearer'."
    )
    req = with_header(sign(), "authorization", SECRET)  # a pasted secret is never echoed
    assert_refused(world, req, "IncompleteSignatureException", "Unsupported AWS 'algorithm'.")


# ---- keys and users ----


def test_unknown_key(world: World) -> None:
    req = sign(kid="AKIAZZZZZZZZZZZZZZ23")
    assert_refused(world, req, "UnrecognizedClientException", UNRECOGNIZED)


def test_inactive_key(world: World) -> None:
    req = sign(kid=INACTIVE_KID, secret=INACTIVE_SECRET)
    assert_refused(world, req, "UnrecognizedClientException", UNRECOGNIZED)


def test_key_of_a_deleted_user(world: World) -> None:
    req = sign(kid=ORPHAN_KID, secret=ORPHAN_SECRET)
    assert_refused(world, req, "UnrecognizedClientException", UNRECOGNIZED)


def test_key_deactivated_in_a_later_snapshot(world: World) -> None:
    assert world.verifier.verify(sign()).name == "alice"
    keys = dict(world.state.keys)
    keys[KID] = replace(keys[KID], status="Inactive")
    world.state = IamState(
        world.state.account, world.state.holder, users=world.state.users, keys=keys
    )
    assert_refused(world, sign(t=T0 + 1), "UnrecognizedClientException", UNRECOGNIZED)


def test_session_token_is_refused(world: World) -> None:
    req = sign(extra={"X-Amz-Security-Token": "FwoGZXIvYXdzEXAMPLE"})
    assert_refused(world, req, "UnrecognizedClientException", UNRECOGNIZED)


# ---- replay ----


def test_replay_within_the_window_is_refused(world: World) -> None:
    req = sign()
    assert world.verifier.verify(req).name == "alice"
    world.clock.t = T0 + 299
    assert_refused(world, req, "InvalidSignatureException", sigv4.REPLAYED)
    # the same body signed afresh (a second later: a new signature) is accepted
    assert world.verifier.verify(sign(t=T0 + 1)).name == "alice"


def test_sdk_calls_and_retries_with_one_signature_are_told_apart(world: World) -> None:
    """botocore signs neither amz-sdk-invocation-id nor amz-sdk-request: two calls within one
    second share the signature; their fresh invocation id (and a retry's attempt number)
    keep them apart."""
    first, second = sign(invocation="inv-1"), sign(invocation="inv-2")
    assert signature(first) == signature(second)
    world.verifier.verify(first)
    world.verifier.verify(second)
    retry = with_header(first, "amz-sdk-request", "attempt=2; max=3")
    world.verifier.verify(retry)
    assert_refused(world, retry, "InvalidSignatureException", sigv4.REPLAYED)


def test_raw_client_without_sdk_headers(world: World) -> None:
    req = sign(invocation=None)
    world.verifier.verify(req)
    assert_refused(world, req, "InvalidSignatureException", sigv4.REPLAYED)


def test_refused_requests_are_not_recorded(world: World) -> None:
    req = sign()
    world.clock.t = T0 + 301
    refused(world, req)
    world.clock.t = T0
    assert world.verifier.verify(req).name == "alice"


# ---- the stored secret: opened once per key object and day ----


class CountingVault(AccessKeyVault):
    """A real vault that counts how often a stored secret is opened."""

    opened = 0

    def open(self, stored: StoredAccessKey) -> str:
        type(self).opened += 1
        return super().open(stored)


def test_secret_opened_once_per_key_object_and_day() -> None:
    CountingVault.opened = 0
    world = World(CountingVault(b"m" * 32, "123456789012"))
    for i in range(5):
        world.verifier.verify(sign(t=T0 + i))
    assert CountingVault.opened == 1
    # a new snapshot that leaves the key object alone keeps its signing key
    world.state = IamState(
        world.state.account,
        world.state.holder,
        users=world.state.users,
        keys=dict(world.state.keys),
    )
    world.verifier.verify(sign(t=T0 + 10))
    assert CountingVault.opened == 1
    # the next day derives afresh; a replaced key object too
    world.clock.t = T0 + 86_400
    world.verifier.verify(sign(t=T0 + 86_400))
    assert CountingVault.opened == 2
    keys = dict(world.state.keys)
    keys[KID] = replace(keys[KID])  # equal, but a new object (a changed row)
    world.state = IamState(
        world.state.account, world.state.holder, users=world.state.users, keys=keys
    )
    world.verifier.verify(sign(t=T0 + 86_401))
    assert CountingVault.opened == 3


# ---- no credential material anywhere ----


def test_no_secret_signature_or_authorization_in_messages_reprs_or_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    good = sign()
    sig = signature(good)
    auth = header(good, "authorization")
    bad = [
        with_auth(good, sig, _one_off(sig)),
        with_auth(good, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA257"),
        with_auth(good, "Signature=", "Signature"),
        with_auth(good, "/aws4_request", f"/{SECRET[:8]}"),
        with_auth(good, "/aws4_request", ""),
        with_auth(good, "/20261201/", f"/{SECRET}/"),
        with_header(good, "authorization", SECRET),
        with_header(good, "authorization", f"AWS4-HMAC-SHA256 {SECRET}"),
        with_header(good, "authorization", f"Bearer {KID}:{SECRET}"),
        with_header(good, "x-amz-date", SECRET),
        sign(secret=_one_off(SECRET)),
        sign(region="eu-west-1"),
    ]
    caplog.set_level(logging.DEBUG)  # from here on: only the verifier runs (not the signer)
    caplog.clear()
    texts = [repr(world.verifier), repr(good), str(good)]
    world.verifier.verify(good)
    bad.append(good)  # the replay
    for req in bad:
        err = refused(world, req)
        texts += [err.message, str(err), repr(err), repr(req), *map(str, err.args)]
    texts.append(caplog.text)
    blob = "\n".join(texts)
    for forbidden in (SECRET, SECRET[:8], sig, auth, _one_off(sig), AMZ_T0 + "\n"):
        assert forbidden not in blob
    assert "AKIAABCDEFGHIJKLMN23" in repr(good)
