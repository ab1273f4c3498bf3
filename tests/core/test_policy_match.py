"""Glob matching without regular expressions, checked against the fnmatch-regex reference.

The reference is what the matcher used to be: fnmatch.translate of the glob with `[` and the
literal sentinels escaped, one alternation per set, fullmatch with DOTALL (and IGNORECASE for
actions). Inputs are ASCII, where casefolding and re.IGNORECASE agree.
"""

from __future__ import annotations

import fnmatch
import json
import random
import re
import time

import pytest

from smgrpc.core.policy import Request, evaluate, parse_policy
from smgrpc.core.policy.match import (
    QMARK,
    STAR,
    GlobIndex,
    GlobSet,
    any_glob,
    arn_like,
    substitute,
)
from tests.policy_samples import ACCT, max_size_policy

_ESC = {"[": "[[]", STAR: "[*]", QMARK: "[?]"}


def reference(patterns: tuple[str, ...], value: str, ignore_case: bool = False) -> bool:
    if not patterns:
        return False
    src = "|".join(f"(?:{fnmatch.translate(''.join(_ESC.get(c, c) for c in p))})" for p in patterns)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(src, flags).fullmatch(value) is not None


def ours(patterns: tuple[str, ...], value: str, ignore_case: bool = False) -> bool:
    """any_glob's answer, after checking that the index (used for > 4 patterns) agrees."""
    got = any_glob(patterns, ignore_case=ignore_case)(value)
    fold = str.casefold if ignore_case else str
    index = GlobIndex.of(fold(p) for p in patterns)
    assert index.matches(fold(value)) is got or "*" in patterns, (patterns, value)
    return got


TABLE: list[tuple[str, str, bool]] = [
    ("", "", True),
    ("", "a", False),
    ("abc", "abc", True),
    ("abc", "abcd", False),
    ("abc", "ab", False),
    ("*", "", True),
    ("*", "anything:at/all\n", True),
    ("**", "", True),
    ("a*", "a", True),
    ("a*", "abc", True),
    ("a*", "ba", False),
    ("a**", "abc", True),
    ("*a", "ba", True),
    ("*a", "ab", False),
    ("*a*", "xax", True),
    ("*a*", "xxx", False),
    ("a*b", "ab", True),
    ("a*b", "a:/b", True),
    ("a*b", "aba", False),
    ("a*a", "a", False),
    ("a*a", "aa", True),
    ("a**b", "ab", True),
    ("a*b*c", "abc", True),
    ("a*b*c", "acb", False),
    ("a*b*c", "abbbc", True),
    ("a*bc*bc", "abcbc", True),
    ("a*bc*bc", "abcb", False),
    ("*ab*ab*", "abab", True),
    ("*ab*ab*", "aba", False),
    ("?", "", False),
    ("?", "x", True),
    ("?", "xy", False),
    ("??", "xy", True),
    ("a?c", "abc", True),
    ("a?c", "ac", False),
    ("*?", "", False),
    ("*?", "x", True),
    ("?*?", "x", False),
    ("?*?", "xy", True),
    ("*a?b*", "xxaxbxx", True),
    ("*a?b*", "xxabxx", False),
    ("*a?a?a*", "aaaaa", True),
    ("*a?a?a*", "aaaa", False),
    ("a*?b", "ab", False),
    ("a*?b", "axb", True),
    ("x*ab?d*", "xabab_d", True),
    ("x*ab?d*", "xababd", False),
    ("*a*a*a*b", "a" * 50 + "b", True),
    ("*a*a*a*b", "a" * 50, False),
    # `?` chunks whose runs keep misaligning: the search falls back to a regex for the chunk
    ("*a?b*c", "ab" * 100 + "a_bc", True),
    ("*a?b*c", "ab" * 100 + "c", False),
    ("x*?a??b?*y", "xab" * 100 + "_a__b_y", True),
    ("x*?a??b?*y", "xab" * 100 + "_a__by", False),
    ("*a" + QMARK + "?b*", "a?" * 100 + "a?xb", True),
    ("a[bc]", "a[bc]", True),
    ("a[bc]", "ab", False),
    ("[!a]", "[!a]", True),
    ("[!a]", "b", False),
    ("a\\*", "a\\xyz", True),
    ("a.b", "axb", False),
    ("a.b", "a.b", True),
    ("(a|b)+", "(a|b)+", True),
    ("a" + STAR, "a*", True),
    ("a" + STAR, "ab", False),
    ("a" + STAR, "a" + STAR, False),
    ("a" + QMARK, "a?", True),
    ("a" + QMARK, "ax", False),
    (STAR + "*", "*abc", True),
    (STAR + "*", "abc", False),
    ("*" + QMARK, "what?", True),
    ("*" + QMARK, "what", False),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/k/x", True),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::c/k", False),
    ("arn:*:sm:*:*:secret:a-??????", "arn:aws:sm:r:1:secret:a-AbCdEf", True),
    ("arn:*:sm:*:*:secret:a-??????", "arn:aws:sm:r:1:secret:a-AbCdE", False),
    ("é*ü", "éaü", True),
    ("é?ü", "éaü", True),
]


@pytest.mark.parametrize(("pattern", "value", "expected"), TABLE)
def test_table_against_expectation_and_reference(pattern: str, value: str, expected: bool) -> None:
    assert reference((pattern,), value) is expected
    assert ours((pattern,), value) is expected


def test_sets_match_when_any_member_does() -> None:
    pats = ("a*", "*z", "b?c", "exact", "*mid*", "x*y*z", "", STAR + "lit")
    for value, expected in [
        ("abc", True),
        ("qqz", True),
        ("bxc", True),
        ("exact", True),
        ("exac", False),
        ("somemidthing", True),
        ("x_y_q", False),
        ("", True),
        ("*lit", True),
        ("qlit", False),
        ("nothing", False),
    ]:
        assert reference(pats, value) is expected, value
        assert ours(pats, value) is expected, value
    assert not ours((), "a")


def _random_glob(rng: random.Random, alphabet: str) -> str:
    return "".join(rng.choice(alphabet + "**??") for _ in range(rng.randint(0, 7)))


def _random_value(rng: random.Random, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9)))


@pytest.mark.parametrize("ignore_case", [False, True])
def test_random_differential_against_the_regex_reference(ignore_case: bool) -> None:
    rng = random.Random(7 + ignore_case)
    alphabet = "aAb:/[" + STAR + QMARK
    values = "aAb:/[*?" + STAR
    for _ in range(3000):
        pats = tuple(_random_glob(rng, alphabet) for _ in range(rng.randint(1, 8)))
        for _ in range(4):
            v = _random_value(rng, values)
            assert ours(pats, v, ignore_case) is reference(pats, v, ignore_case), (pats, v)


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        ("*a*a*a*b", "a" * 20_000),
        ("*a*a*a*a*a*a*a*a*a*a*b", "a" * 20_000),
        ("*a?a?a?a?b*", "a" * 20_000),
        ("*" + "a*" * 400 + "b", "a" * 20_000),
        ("*" + "a" * 5000 + "b*", "a" * 20_000),
        ("*" + "?" * 100 + "b", "a" * 20_000),
        ("*a?b*c", "ab" * 10_000),
    ],
)
def test_adversarial_inputs_stay_linear(pattern: str, value: str) -> None:
    start = time.process_time()
    for _ in range(3):
        got = ours((pattern,), value), ours((pattern,), value + "b"), ours((pattern,), value + "c")
    assert time.process_time() - start < 0.05
    assert got == (False, *(reference((pattern,), value + x) for x in "bc"))  # reference: slow


def test_case_is_ignored_for_actions_only() -> None:
    text = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": ["SECRETSMANAGER:getsecret*", "secretsmanager:Describe?ecret"],
                "Resource": "arn:aws:secretsmanager:*:111122223333:secret:Prod-*",
            },
        }
    )
    st = parse_policy(text, kind="identity").statements[0]
    none = lambda _k: None  # noqa: E731
    assert st.actions.matches("secretsmanager:GetSecretValue", none)
    assert st.actions.matches("SecretsManager:describesecret", none)
    assert not st.actions.matches("secretsmanager:PutSecretValue", none)
    arn = "arn:aws:secretsmanager:r:111122223333:secret:Prod-x"
    assert st.resources.matches(arn, none)
    assert not st.resources.matches(arn.replace("Prod", "prod"), none)
    assert not GlobSet.of(("Abc",), ignore_case=False, variables=False).matches("abc", none)
    assert GlobSet.of(("Abc",), ignore_case=True, variables=False).matches("aBC", none)


def test_variables_substitute_literal_text() -> None:
    def resolve(name: str) -> str | None:
        return {"aws:username": "a*b?", "team": "x"}.get(name)

    gs = GlobSet.of(
        ("home/${aws:username}/*", "lit${*}${?}${$}", "t/${team}", "none/${missing}"),
        ignore_case=False,
        variables=True,
    )
    assert gs.matches("home/a*b?/file", resolve)
    assert not gs.matches("home/aXbY/file", resolve)  # the substituted `*`/`?` are literal
    assert gs.matches("lit*?$", resolve)
    assert not gs.matches("litxy$", resolve)
    assert gs.matches("t/x", resolve)
    assert not gs.matches("none/", resolve)
    assert substitute("a${*}", resolve, glob=True) == "a" + STAR
    assert substitute("a${*}", resolve, glob=False) == "a*"
    literal = GlobSet.of(("home/${aws:username}",), ignore_case=False, variables=False)
    assert literal.matches("home/${aws:username}", resolve)  # 2008-10-17: plain text


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", "not-an-arn", True),
        ("arn:aws:iam::*:user/*", "arn:aws:iam::123456789012:user/a/b", True),
        ("arn:aws:iam::*:user/*", "arn:aws:iam::1:2:user/a", False),  # `*` never spans a colon
        ("arn:aws:iam::*", "arn:aws:iam::1:user/a", False),  # five parts vs six
        ("arn:aws:s3:::b*", "arn:aws:s3:::b:with:colons", True),  # the resource keeps colons
        ("arn:aws:s3:::b?", "arn:aws:s3:::bc", True),
        ("arn:aws:s3:::b?", "arn:aws:s3:::b", False),
        ("arn:aws:sm:us-*-1:*:secret:*", "arn:aws:sm:us-east-1:1:secret:s", True),
        ("arn:aws:sm:us-*-1:*:secret:*", "arn:aws:sm:eu-west-1:1:secret:s", False),
        ("ARN:aws:s3:::b", "arn:aws:s3:::b", False),
        ("arn:aws:s3:::[b]", "arn:aws:s3:::[b]", True),
    ],
)
def test_arn_like_matches_component_by_component(pattern: str, value: str, expected: bool) -> None:
    assert arn_like(pattern, value) is expected
    if pattern != "*":
        parts, got = pattern.split(":", 5), value.split(":", 5)
        ref = len(parts) == len(got) == 6 and all(
            reference((p,), g) for p, g in zip(parts, got, strict=True)
        )
        assert ref is expected


def test_parsing_a_max_size_policy_takes_under_20ms_of_cpu() -> None:
    """Regression: one regex compile per glob made this ~70-200 ms, blocking the event loop."""
    best = float("inf")
    for attempt in range(3):
        tag = f"{attempt}{random.randrange(256):02x}"  # fresh patterns: no cache hits
        text = max_size_policy(tag)
        start = time.process_time()
        policy = parse_policy(text, kind="resource")
        request = Request.build(
            principal_arn=f"arn:aws:iam::{ACCT}:user/u",
            principal_account=ACCT,
            action=f"s:{tag}5e-read",
            resource=f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:{tag}1f-AbCdEf",
            keys={"aws:ResourceTag/team": "none"},
        )
        decision = evaluate(request, (), policy)
        best = min(best, time.process_time() - start)
        assert decision.allowed
    assert best < 0.020, f"parse + first evaluation took {best * 1000:.1f} ms of CPU"
