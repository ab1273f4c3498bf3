"""Proto <-> domain translation (no logic beyond shape)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.core.filters import Filter
from smgrpc.core.model import ReplicaStatus, Secret, Version
from smgrpc.core.policy.checks import ValidationResult
from smgrpc.core.rotation import reported_days


def ts(seconds: float) -> Timestamp:
    out = Timestamp()
    set_ts(out, seconds)
    return out


def set_ts(out: Timestamp, seconds: float) -> None:
    """Fill a Timestamp field in place (microsecond precision, as Timestamp.FromNanoseconds)."""
    nanos = int(round(seconds * 1_000_000)) * 1000
    out.seconds, out.nanos = divmod(nanos, 1_000_000_000)


def day_ts(day: str | None) -> Timestamp | None:
    """LastAccessedDate: AWS reports the date only (midnight UTC)."""
    if day is None:
        return None
    d = dt.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    return ts(calendar.timegm(d.timetuple()))


def opt_ts(seconds: float | None) -> Timestamp | None:
    return None if seconds is None else ts(seconds)


def opt(msg: Any, field: str) -> Any:
    """Value of a proto3 optional string/bytes/bool/int field, or None when absent."""
    return getattr(msg, field) if msg.HasField(field) else None


def tags_in(tags: Iterable[pb.Tag]) -> list[tuple[str, str]]:
    return [(t.key, t.value) for t in tags]


def filters_in(filters: Iterable[pb.Filter]) -> list[Filter]:
    return [Filter(f.key, tuple(f.values)) for f in filters]


def regions_in(items: Iterable[pb.ReplicaRegionType]) -> list[tuple[str, str | None]]:
    return [(r.region, r.kms_key_id if r.HasField("kms_key_id") else None) for r in items]


def replication_out(items: Iterable[ReplicaStatus]) -> list[pb.ReplicationStatusType]:
    out = []
    for r in items:
        m = pb.ReplicationStatusType(region=r.region, status=r.status)
        if r.kms_key_id is not None:
            m.kms_key_id = r.kms_key_id
        if r.status_message:
            m.status_message = r.status_message
        stamp = day_ts(r.last_accessed_day)
        if stamp is not None:
            m.last_accessed_date.CopyFrom(stamp)
        out.append(m)
    return out


def _fill_metadata(
    m: pb.DescribeSecretResponse | pb.SecretListEntry, s: Secret, region: str
) -> None:
    m.arn = s.arn
    m.name = s.name
    if s.type:
        m.type = s.type
    if s.description:
        m.description = s.description
    if s.kms_key_id:
        m.kms_key_id = s.kms_key_id
    r = s.rotation
    if r.enabled is not None:
        m.rotation_enabled = r.enabled
    if r.lambda_arn:
        m.rotation_lambda_arn = r.lambda_arn
    if r.automatically_after_days is not None or r.schedule_expression or r.duration:
        days = reported_days(r)
        if days is not None:
            m.rotation_rules.automatically_after_days = days
        if r.duration:
            m.rotation_rules.duration = r.duration
        if r.schedule_expression:
            m.rotation_rules.schedule_expression = r.schedule_expression
    for field, value in (
        ("last_rotated_date", opt_ts(r.last_rotated)),
        ("next_rotation_date", opt_ts(r.next_rotation)),
        ("last_changed_date", ts(s.last_changed_at)),
        ("last_accessed_date", day_ts(s.last_accessed_day)),
        ("deleted_date", opt_ts(s.deleted_date)),
        ("created_date", ts(s.created_at)),
    ):
        if value is not None:
            getattr(m, field).CopyFrom(value)
    if s.tags is not None:  # () after every tag was removed: AWS still sends "Tags": []
        m.tags_present = True
        for k, v in s.tags:
            m.tags.add(key=k, value=v)
    if s.owning_service:
        m.owning_service = s.owning_service
    if s.is_replica:
        m.primary_region = s.primary_region  # type: ignore[assignment]
    elif s.replicas:
        m.primary_region = region


def describe_out(s: Secret, region: str) -> pb.DescribeSecretResponse:
    m = pb.DescribeSecretResponse()
    _fill_metadata(m, s, region)
    for vid, stages in s.stage_map().items():
        m.version_ids_to_stages[vid].stages.extend(stages)
    m.replication_status.extend(replication_out(s.replicas))
    return m


def list_entry_out(s: Secret, region: str) -> pb.SecretListEntry:
    m = pb.SecretListEntry()
    _fill_metadata(m, s, region)
    for vid, stages in s.stage_map().items():
        m.secret_versions_to_stages[vid].stages.extend(stages)
    return m


def rotation_rules_in(
    r: pb.RotateSecretRequest,
) -> tuple[int | None, str | None, str | None, bool]:
    """(AutomaticallyAfterDays, ScheduleExpression, Duration, whether RotationRules was sent)."""
    if not r.HasField("rotation_rules"):
        return None, None, None, False
    rules = r.rotation_rules
    return (
        opt(rules, "automatically_after_days"),
        opt(rules, "schedule_expression"),
        opt(rules, "duration"),
        True,
    )


def version_entry_out(v: Version, kms_display: str) -> pb.SecretVersionsListEntry:
    m = pb.SecretVersionsListEntry(version_id=v.version_id, version_stages=v.stages)
    m.created_date.CopyFrom(ts(v.created_at))
    stamp = day_ts(v.last_accessed_day)
    if stamp is not None:
        m.last_accessed_date.CopyFrom(stamp)
    m.kms_key_ids.append(kms_display)
    return m


def validation_out(result: ValidationResult) -> pb.ValidateResourcePolicyResponse:
    """ValidateResourcePolicy's response: PolicyValidationPassed and ValidationErrors."""
    out = pb.ValidateResourcePolicyResponse(
        policy_validation_passed=result.policy_validation_passed
    )
    for entry in result.validation_errors:
        out.validation_errors.add(check_name=entry.check_name, error_message=entry.error_message)
    return out
