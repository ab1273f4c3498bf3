"""Tests for smgrpc.core.filters: validation messages and ListSecrets matching semantics."""

from __future__ import annotations

import pytest

from smgrpc.core.errors import InvalidParameter, ValidationError
from smgrpc.core.filters import (
    Filter,
    FilterTarget,
    compile_filters,
    matches,
    split_words,
    validate_filters,
)

ENUM = "[all, name, tag-key, description, tag-value, primary-region, owning-service]"
PATTERN = r"^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$"
UNIQUE = "123456"


def tgt(
    name: str,
    description: str | None = None,
    tags: list[tuple[str, str]] | None = None,
    primary_region: str | None = None,
    owning_service: str | None = None,
) -> FilterTarget:
    return FilterTarget(
        name=name,
        description=description,
        tags=None if tags is None else tuple(tags),
        primary_region=primary_region,
        owning_service=owning_service,
    )


def flt(key: str, *values: str) -> Filter:
    return Filter(key, tuple(values))


def names(targets: list[FilterTarget], *filters: Filter) -> list[str]:
    validate_filters(filters)
    return [t.name for t in targets if matches(t, filters)]


# --- split_words (moto test_word_splitter plus the AWS-verified consequences) ---------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("test", ["test"]),
        ("my test", ["my", "test"]),
        ("Mytest", ["Mytest"]),
        ("MyTest", ["My", "Test"]),
        ("MyTestPhrase", ["My", "Test", "Phrase"]),
        ("myTest", ["my", "Test"]),
        ("my/test", ["my", "test"]),
        ("COMPANYthings", ["COMPAN", "Ythings"]),
        ("uat/COMPANY/x", ["uat", "COMPANY", "x"]),
        ("prod/AppBeta/123456", ["prod", "App", "Beta", "123456"]),
        ("prod_AppBeta_x", ["prod", "App", "Beta", "x"]),
        ("prod-AppBeta/x", ["prod-AppBeta/x"]),
        ("one and two", ["one", "and", "two"]),
        ("+", []),
        ("/", []),
        ("", []),
    ],
)
def test_split_words(text: str, words: list[str]) -> None:
    assert split_words(text) == words


# --- validation ------------------------------------------------------------------------------


def test_valid_filters_pass() -> None:
    validate_filters([flt(k, "x") for k in ("name", "description", "tag-key", "tag-value")])
    validate_filters(
        [flt("primary-region", "us-east-1"), flt("owning-service", "rds"), flt("all", "!a")]
    )
    validate_filters([flt("name", "a b:c_d@e/f+g=h.i-j!k", "x" * 512)])
    validate_filters([])


def test_empty_key_is_invalid_parameter() -> None:
    with pytest.raises(InvalidParameter) as exc:
        validate_filters([flt("", "foo")])
    assert exc.value.message == "Invalid filter key"
    assert exc.value.aws_code == "InvalidParameterException"


def test_unknown_key_is_validation_error_with_index() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_filters([flt("invalid", "foo")])
    assert exc.value.message == (
        "1 validation error detected: Value 'invalid' at 'filters.1.member.key' failed to "
        f"satisfy constraint: Member must satisfy enum value set: {ENUM}"
    )
    with pytest.raises(ValidationError) as exc:
        validate_filters([flt("name", "a"), flt("Name", "b")])
    assert "Value 'Name' at 'filters.2.member.key'" in exc.value.message


def test_path_prefix_is_used() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_filters([flt("bogus", "a")], path_prefix="Filters")
    assert "at 'Filters.1.member.key'" in exc.value.message


def test_empty_values_is_invalid_parameter() -> None:
    with pytest.raises(InvalidParameter) as exc:
        validate_filters([flt("description")])
    assert exc.value.message == "Invalid filter values for key: description"


def test_too_many_filters() -> None:
    validate_filters([flt("name", "a")] * 10)
    with pytest.raises(ValidationError) as exc:
        validate_filters([flt("name", "a")] * 11)
    assert exc.value.message.startswith("1 validation error detected: Value ")
    assert exc.value.message.endswith(
        "at 'filters' failed to satisfy constraint: "
        "Member must have length less than or equal to 10"
    )


def test_too_many_values() -> None:
    validate_filters([flt("name", *("v" for _ in range(10)))])
    with pytest.raises(ValidationError) as exc:
        validate_filters([flt("name", *(str(i) for i in range(11)))])
    assert exc.value.message == (
        "1 validation error detected: Value '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]' at "
        "'filters.1.member.values' failed to satisfy constraint: "
        "Member must have length less than or equal to 10"
    )


def test_value_too_long() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_filters([flt("name", "ok", "x" * 513)])
    assert exc.value.message == (
        # values over 256 characters are not echoed (the message travels in gRPC trailers)
        "1 validation error detected: Value at 'filters.1.member.values.2.member' "
        "failed to satisfy constraint: Member must have length less than or equal to 512"
    )


@pytest.mark.parametrize("bad", ["a*b", "é", "foo\n", "a,b", "tab\t", "(x)"])
def test_value_pattern(bad: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_filters([flt("all", bad)])
    assert exc.value.message == (
        f"1 validation error detected: Value '{bad}' at 'filters.1.member.values.1.member' "
        f"failed to satisfy constraint: Member must satisfy regular expression pattern: {PATTERN}"
    )


def test_first_error_wins_in_request_order() -> None:
    with pytest.raises(InvalidParameter):
        validate_filters([flt("", "a"), flt("bogus", "a")])
    with pytest.raises(ValidationError):
        validate_filters([flt("bogus", "a"), flt("")])


# --- name / tag filters ----------------------------------------------------------------------


def test_name_filter_prefix_case_sensitive() -> None:
    secrets = [tgt("foo"), tgt("bar"), tgt("foobar"), tgt("Foo")]
    assert names(secrets, flt("name", "foo")) == ["foo", "foobar"]
    assert names(secrets, flt("name", "Foo")) == ["Foo"]
    assert names(secrets, flt("name", "oo")) == []


def test_name_filter_multiple_values_or() -> None:
    secrets = [tgt("foo"), tgt("bar"), tgt("baz")]
    assert names(secrets, flt("name", "foo", "bar")) == ["foo", "bar"]


def test_name_negation() -> None:
    secrets = [tgt("foo"), tgt("bar"), tgt("foobar")]
    assert names(secrets, flt("name", "!foo")) == ["bar"]
    # OR within one filter: "!foo" OR "foob".
    assert names(secrets, flt("name", "!foo", "foob")) == ["bar", "foobar"]


def test_tag_key_and_value_filters() -> None:
    secrets = [tgt("foo", tags=[("baz", "1")]), tgt("bar"), tgt("qux", tags=[("1", "baz")])]
    assert names(secrets, flt("tag-key", "baz")) == ["foo"]
    assert names(secrets, flt("tag-value", "baz")) == ["qux"]
    assert names(secrets, flt("tag-key", "ba")) == ["foo"]
    assert names(secrets, flt("tag-key", "Baz")) == []


def test_multiple_filters_and() -> None:
    secrets = [
        tgt("foo", tags=[("right", "right")]),
        tgt("bar", tags=[("right", "wrong")]),
        tgt("baz", tags=[("wrong", "right")]),
        tgt("qux", tags=[("wrong", "wrong")]),
    ]
    assert names(secrets, flt("tag-key", "right"), flt("tag-value", "right")) == ["foo"]


def test_tag_key_negation_with_several_tags() -> None:
    secrets = [
        tgt("only-foo", tags=[("foo", "1")]),
        tgt("foo-and-bar", tags=[("foo", "1"), ("bar", "2")]),
        tgt("foobar", tags=[("foobar", "1"), ("food", "2")]),
        tgt("untagged"),
        tgt("empty-tags", tags=[]),
    ]
    # True if ANY tag key does not start with "foo"; untagged secrets never match.
    assert names(secrets, flt("tag-key", "!foo")) == ["foo-and-bar"]
    assert names(secrets, flt("tag-key", "!food")) == ["only-foo", "foo-and-bar", "foobar"]
    assert names(secrets, flt("tag-value", "!1")) == ["foo-and-bar", "foobar"]


def test_secrets_without_tags_never_match_tag_filters() -> None:
    untagged = tgt("x")
    for key in ("tag-key", "tag-value"):
        assert not matches(untagged, [flt(key, "")])
        assert not matches(untagged, [flt(key, "!anything")])


# --- description / owning-service (word match) -----------------------------------------------


def test_description_filter() -> None:
    secrets = [tgt("foo", description="baz qux"), tgt("bar")]
    assert names(secrets, flt("description", "baz")) == ["foo"]
    assert names(secrets, flt("description", "BAZ")) == ["foo"]
    assert names(secrets, flt("description", "qu")) == ["foo"]
    assert names(secrets, flt("description", "az")) == []


def _descriptions() -> list[FilterTarget]:
    return [
        tgt("foo", description="one two"),
        tgt("bar", description="one and two"),
        tgt("baz", description="one"),
        tgt("qux", description="two"),
        tgt("none", description="unrelated"),
    ]


def test_duplicate_description_filters_and() -> None:
    secrets = [*_descriptions()[:4], tgt("qux2", description="unrelated")]
    assert names(secrets, flt("description", "one"), flt("description", "two")) == ["foo", "bar"]


def test_description_multiple_words() -> None:
    secrets = _descriptions()
    assert names(secrets, flt("description", "one two")) == ["foo", "bar"]
    assert names(secrets, flt("description", "my test")) == []
    assert names(secrets, flt("description", "o t")) == ["foo", "bar"]
    assert names(secrets, flt("description", "t")) == ["foo", "bar", "qux"]


def test_description_negation() -> None:
    secrets = _descriptions()
    assert names(secrets, flt("description", "one", "!two")) == ["foo", "bar", "baz", "none"]
    assert names(secrets, flt("description", "!o")) == ["qux", "none"]


def test_my_test_description() -> None:
    secret = tgt("s", description="my test")
    assert matches(secret, [flt("description", "my test")])
    assert matches(secret, [flt("description", "test my")])
    assert matches(secret, [flt("description", "te")])
    assert not matches(secret, [flt("description", "mytest")])


def test_secrets_without_description_never_match() -> None:
    for secret in (tgt("x"), tgt("x", description="")):
        assert not matches(secret, [flt("description", "x")])
        assert not matches(secret, [flt("description", "!x")])


def test_owning_service() -> None:
    rds = tgt("rds!db-1", owning_service="rds")
    user = tgt("foo")
    assert names([rds, user], flt("owning-service", "n/a")) == []
    assert names([rds, user], flt("owning-service", "RDS")) == ["rds!db-1"]
    assert names([rds, user], flt("owning-service", "r")) == ["rds!db-1"]
    # A secret with no owning service never matches, even negated.
    assert names([rds, user], flt("owning-service", "!x")) == ["rds!db-1"]


# --- all -------------------------------------------------------------------------------------


def _all_secrets() -> list[FilterTarget]:
    return [
        tgt(f"SecretOne{UNIQUE}"),
        tgt(f"SecretTwo{UNIQUE}", description="DescTwo"),
        tgt(f"Thirdsecret{UNIQUE}"),
        tgt(f"SecretFTag{UNIQUE}", tags=[("1", "foo")]),
        tgt(f"SecretFValue{UNIQUE}", tags=[("foo", "v")]),
        tgt(f"none{UNIQUE}"),
    ]


def test_all_filter_aws_verified() -> None:
    s = _all_secrets()
    one, two, third, ftag, fval = (x.name for x in s[:5])
    assert names(s, flt("all", "SecretOne")) == [one]
    assert names(s, flt("all", "foo")) == [ftag, fval]
    assert names(s, flt("all", "Secret")) == [one, two, ftag, fval]
    assert names(s, flt("all", "secret")) == [one, two, ftag, fval]
    assert names(s, flt("all", "ret")) == []
    assert names(s, flt("all", "sec")) == [one, two, ftag, fval]
    assert names(s, flt("all", "SomeSecret")) == []
    assert names(s, flt("all", "d")) == [two]
    assert names(s, flt("all", "d t")) == [two]
    assert names(s, flt("all", "t")) == [two, third, ftag]


def test_all_words_must_hit_a_single_attribute() -> None:
    secret = tgt("alpha", description="beta", tags=[("gamma", "delta")])
    assert matches(secret, [flt("all", "alpha")])
    assert matches(secret, [flt("all", "gamma")])
    assert matches(secret, [flt("all", "delta")])
    assert not matches(secret, [flt("all", "alpha beta")])


def _special_secrets() -> tuple[list[FilterTarget], list[str]]:
    seps = [f"prod{c}AppBeta{c}{UNIQUE}" for c in "/_+=.@-"]
    extra = [f"prod-AppBeta/{UNIQUE}", f"uat/COMPANY/{UNIQUE}", f"uat/COMPANYthings/{UNIQUE}"]
    return [tgt(n) for n in seps + extra], seps


def test_all_filter_special_characters_aws_verified() -> None:
    secrets, seps = _special_secrets()
    assert names(secrets, flt("all", "AppBeta")) == seps
    assert names(secrets, flt("all", "Beta")) == seps
    assert names(secrets, flt("all", "AppBeta", "prod")) == [*seps, f"prod-AppBeta/{UNIQUE}"]
    assert names(secrets, flt("all", "+")) == []
    assert names(secrets, flt("all", UNIQUE)) == (
        [*seps, f"uat/COMPANY/{UNIQUE}", f"uat/COMPANYthings/{UNIQUE}"]
    )
    assert names(secrets, flt("all", "company")) == [f"uat/COMPANY/{UNIQUE}"]
    assert names(secrets, flt("all", "things")) == []
    assert names(secrets, flt("all", "Ythings")) == [f"uat/COMPANYthings/{UNIQUE}"]
    assert names(secrets, flt("all", "N")) == []
    assert names(secrets, flt("all", "pany")) == []


def test_all_filter_checks_tags_and_description() -> None:
    secrets = [
        tgt("foo"),
        tgt("bar", description="foo"),
        tgt("baz", tags=[("foo", "1")]),
        tgt("qux", tags=[("1", "foo")]),
        tgt("multi", tags=[("foo", "foo")]),
        tgt("none"),
    ]
    assert names(secrets, flt("all", "foo")) == ["foo", "bar", "baz", "qux", "multi"]


def test_all_negation() -> None:
    # '!v' is true when any attribute string fails to match v.
    assert matches(tgt("alpha"), [flt("all", "!beta")])
    assert not matches(tgt("alpha"), [flt("all", "!al")])
    assert matches(tgt("alpha", description="beta"), [flt("all", "!al")])


# --- primary-region --------------------------------------------------------------------------


def test_primary_region_exact_equality() -> None:
    replicated_primary = tgt("rep", primary_region="us-east-1")
    plain = tgt("plain")
    replica = tgt("replica", primary_region="us-east-1")
    secrets = [replicated_primary, plain]
    assert names(secrets, flt("primary-region", "us-east-1")) == ["rep"]
    assert names(secrets, flt("primary-region", "us-east-2")) == []
    assert names(secrets, flt("primary-region", "us-east")) == []
    assert names(secrets, flt("primary-region", "us-east-2", "us-east-1")) == ["rep"]
    assert names([replica], flt("primary-region", "us-east-1")) == ["replica"]
    # No negation semantics: the literal value is compared, so nothing matches.
    assert names(secrets, flt("primary-region", "!us-east-2")) == []


# --- combination / misc ----------------------------------------------------------------------


def test_no_filters_match_everything() -> None:
    assert matches(tgt("x"), [])


def test_empty_values_list_matches_nothing() -> None:
    # Not reachable through validate_filters, but matching must not blow up.
    assert not matches(tgt("x", description="d", tags=[("k", "v")]), [Filter("name", ())])


def test_compile_filters_reusable() -> None:
    pred = compile_filters([flt("name", "a"), flt("description", "x")])
    assert pred(tgt("ab", description="xyz"))
    assert not pred(tgt("ab"))
    assert not pred(tgt("b", description="x"))


def test_unvalidated_key_raises() -> None:
    with pytest.raises(ValueError):
        matches(tgt("x"), [flt("bogus", "x")])
