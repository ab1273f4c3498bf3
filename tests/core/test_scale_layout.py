"""What keeps a Region with 100k+ secrets small and its filtered scans fast: slotted records,
filter words that leave nothing for the GC to walk, and a quick text test that never rejects
a secret the filters accept."""

from __future__ import annotations

import gc
import itertools

from smgrpc.core.filters import Filter, FilterTarget, compile_filters, matches, text_test
from smgrpc.core.model import ReplicaStatus, RotationConfig, Secret, Version
from smgrpc.core.words import filter_text

PREFIX = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"


def secret(i: int, **kw: object) -> Secret:
    name = f"app/Service{i:05d}/db"
    return Secret(  # type: ignore[arg-type]
        arn=f"{PREFIX}{name}-AbCdEf",
        name=name,
        created_at=1.0 + i,
        last_changed_at=1.0 + i,
        description=f"Database credentials for service {i}",
        tags=(("env", "prod"), ("team", f"team{i % 50}")),
        versions=(
            Version(f"v{i}-0", 1.0, ("AWSPREVIOUS",), "k"),
            Version(f"v{i}-1", 2.0, ("AWSCURRENT",), "k"),
        ),
        **kw,
    )


def test_records_kept_per_secret_have_no_instance_dict() -> None:
    s = secret(1, replicas=(ReplicaStatus("eu-west-1", None, "InSync"),))
    for record in (s, s.versions[0], s.rotation, s.replicas[0]):
        assert not hasattr(record, "__dict__"), type(record).__name__


def test_secrets_without_rotation_share_one_rotation_record() -> None:
    assert secret(1).rotation is secret(2).rotation
    assert secret(1).rotation == RotationConfig()


def test_slotted_secret_keeps_value_semantics_and_evolve() -> None:
    a, b = secret(7), secret(7)
    assert a == b and hash(a) == hash(b)
    assert a.filter_text and a.version("v7-1") is a.versions[1]  # caches filled on a only
    assert a == b and hash(a) == hash(b)  # caches are not part of the value
    c = a.evolve(description="Other text")
    assert c != a and c.description == "Other text" and c.filter_text != a.filter_text
    assert "other text" in c.filter_text
    many = a.evolve(versions=tuple(Version(f"x{i}", float(i), (), "k") for i in range(50)))
    assert many.version("x42") is many.versions[42] and many.version("v7-1") is None


def test_filter_words_leave_nothing_for_the_gc_to_walk() -> None:
    secrets = [secret(i) for i in range(3000)]
    test = compile_filters([Filter("all", ("team7",))])

    def scan() -> int:
        hits = 0
        for s in secrets:
            t = FilterTarget(s.name, s.description, s.tags, None, s.owning_service, s.filter_words)
            hits += test(t)
        return hits

    gc.collect()
    before = len(gc.get_objects())
    assert scan() == 60
    assert scan() == 60
    gc.collect()
    # Was one GC-tracked Words object (and its __dict__) kept per secret scanned; now only
    # the word cache of the 60 secrets that got past the quick reject.
    assert len(gc.get_objects()) - before < 1000
    assert not gc.is_tracked(secrets[0].filter_text)


TARGETS = [
    FilterTarget("prod/DbPassword", "Database password for prod", (("Env", "prod"),), None, None),
    FilterTarget("a-b/c", None, (("owner", "team-Alpha"),), None, "rds"),
    FilterTarget("simple", "", None, None, None),
    FilterTarget("camelCaseName", "mixed-sep/words here", (("k.one", "v_two"),), "us-east-1", None),
    FilterTarget(
        "x", "unicode ΣΑΣ text", (("aws:secretsmanager:owningService", "rds"),), None, "rds"
    ),
]
VALUES = [
    "prod",
    "Prod",
    "db",
    "pass",
    "data base",
    "alpha",
    "team",
    "a-b/c",
    "b",
    "case",
    "name",
    "!prod",
    "!zz",
    "zz",
    "",
    " ",
    "rds",
    "words here",
    "sep",
    "v",
    "σας",
    "k.one",
]


def test_text_test_never_rejects_what_the_filters_accept() -> None:
    keys = ["all", "description", "owning-service", "name", "tag-key", "tag-value"]
    checked = 0
    for key, values in itertools.product(keys, itertools.combinations(VALUES, 2)):
        for filters in ([Filter(key, values)], [Filter(key, values), Filter("all", ("prod",))]):
            quick = text_test(filters)
            for t in TARGETS:
                if matches(t, filters):
                    text = filter_text(t.name, t.description, t.tags, t.owning_service)
                    assert quick is None or quick(text), (t.name, filters)
                    checked += 1
    assert checked > 200
    assert text_test([Filter("all", ("zz",))]) is not None
    assert text_test([Filter("all", ("!zz",))]) is None
