"""core.events.derive: the events of one write, from the states before and after it."""

from __future__ import annotations

from dataclasses import replace

from smgrpc.core import events as ev
from smgrpc.core.model import ReplicaStatus, RotationConfig, RotationRun, Secret, Version

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf"


def secret(*versions: Version, **kw: object) -> Secret:
    return Secret(ARN, "s", 1.0, 1.0, versions=versions, **kw)  # type: ignore[arg-type]


def v(vid: str, *stages: str, has_value: bool = True) -> Version:
    return Version(vid, 1.0, stages, "k", has_value)


def types(before: Secret | None, after: Secret | None, noted: tuple[str, ...] = ()) -> list:
    return [(c.type, c.version_id) for c in ev.derive(before, after, noted)]


def test_created_and_deleted() -> None:
    s = secret(v("a", "AWSCURRENT"))
    assert types(None, s) == [("Created", "a")]
    assert types(None, secret()) == [("Created", None)]
    assert types(s, None) == [("Deleted", None)]
    assert types(None, None) == []


def test_nothing_observable_gives_nothing() -> None:
    s = secret(v("a", "AWSCURRENT"))
    assert types(s, s) == []
    read = replace(s, last_accessed_day="2026-12-01", generation=3, last_changed_at=9.0)
    read = replace(read, versions=(replace(s.versions[0], last_accessed_day="2026-12-01"),))
    assert types(s, read) == []
    dates = replace(s, rotation=RotationConfig(next_rotation=5.0, last_rotated=4.0))
    assert types(s, dates) == []
    status = replace(s, replicas=(ReplicaStatus("eu-west-1", None, "InSync"),))
    assert (
        types(status, replace(status, replicas=(ReplicaStatus("eu-west-1", None, "Failed"),))) == []
    )


def test_put_value_is_version_added_alone() -> None:
    before = secret(v("a", "AWSCURRENT"), v("z", "AWSPREVIOUS"))
    after = secret(v("a", "AWSPREVIOUS"), v("z"), v("b", "AWSCURRENT"))
    assert types(before, after) == [("VersionAdded", "b")]


def test_label_moves_are_stages_changed() -> None:
    before = secret(v("a", "AWSPREVIOUS"), v("b", "AWSCURRENT"))
    after = secret(v("a", "AWSCURRENT"), v("b", "AWSPREVIOUS"))
    assert types(before, after) == [("StagesChanged", "a")]
    removed = secret(v("a", "AWSPREVIOUS"), v("b", "AWSCURRENT", "X"))
    assert types(removed, before) == [("StagesChanged", "b")]


def test_value_less_version_is_added_when_filled() -> None:
    before = secret(v("a", "AWSCURRENT"))
    pending = secret(v("a", "AWSCURRENT"), v("p", "AWSPENDING", has_value=False))
    filled = secret(v("a", "AWSCURRENT"), v("p", "AWSPENDING"))
    assert types(before, pending) == []
    assert types(pending, filled) == [("VersionAdded", "p")]


def test_metadata_deletion_and_promotion() -> None:
    s = secret(v("a", "AWSCURRENT"))
    for change in (
        {"description": "d"},
        {"tags": (("k", "v"),)},
        {"policy": "{}"},
        {"kms_key_id": "alias/x"},
        {"rotation": RotationConfig(enabled=True, lambda_arn="arn")},
        {"replicas": (ReplicaStatus("eu-west-1", None, "InProgress"),)},
    ):
        assert types(s, replace(s, **change)) == [("MetadataChanged", None)], change  # type: ignore[arg-type]
    gone = replace(s, deleted_date=9.0)
    assert types(s, gone) == [("ScheduledForDeletion", None)]
    assert types(gone, s) == [("Restored", None)]
    replica = replace(s, primary_region="us-east-1")
    assert types(replica, s) == [("ReplicaPromoted", None)]


def test_rotation_runs() -> None:
    s = secret(v("a", "AWSCURRENT"))
    run = RotationRun("p", "tok", "arn", "createSecret", True, 1.0)
    started = replace(s, rotating=run)
    assert types(s, started) == [("RotationStarted", "p")]
    assert types(started, replace(started, rotating=replace(run, step="setSecret"))) == []
    done = replace(s, rotation=RotationConfig(last_rotated=5.0))
    assert types(started, done) == [("RotationSucceeded", "p")]
    assert types(started, s) == [("RotationFailed", "p")]
    test_run = replace(s, rotating=replace(run, immediate=False, step="testSecret"))
    assert types(test_run, s, (ev.ROTATION_SUCCEEDED,)) == [("RotationSucceeded", "p")]


def test_resume_window() -> None:
    assert ev.window(1, 10, 0) and ev.window(1, 10, 10)
    assert not ev.window(2, 10, 0) and not ev.window(1, 10, 11)
    assert ev.window(1, 0, 0)  # nothing recorded yet: only position 0
