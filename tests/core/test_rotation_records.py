"""The rotation in progress in the stored row and on the replication wire: rows written before
rotation existed still load, and a run travels to a replica intact (a promoted replica finds it)."""

from __future__ import annotations

import json

import pytest

from smgrpc.core import metadata
from smgrpc.core import replication as repl
from smgrpc.core.model import RotationConfig, RotationRun, Secret
from smgrpc.core.rotation import function_name
from smgrpc.replication.messages import Batch, WireState
from smgrpc.replication.transport import decode_batch, encode_batch
from smgrpc.storage import codec

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-abcdef"
RUN = RotationRun(
    "v" * 32, "t" * 36, "arn:aws:lambda:us-east-1:1:function:f", "testSecret", False, 5.0, 3
)


def secret(**kw: object) -> Secret:
    return Secret(arn=ARN, name="s", created_at=1.0, last_changed_at=2.0, **kw)  # type: ignore[arg-type]


def test_a_row_written_before_rotation_existed_loads_without_a_run() -> None:
    old = json.dumps({"created_at": 1.0, "last_changed_at": 2.0, "description": "d"})
    s = codec.secret_from_row(ARN, "s", old, ())
    assert s.rotating is None and s.description == "d"
    rotation_only = json.dumps(
        {
            "created_at": 1.0,
            "last_changed_at": 2.0,
            "rotation": [True, "arn:f", 3, None, None, None, 9.0],
        }
    )
    s = codec.secret_from_row(ARN, "s", rotation_only, ())
    assert s.rotating is None and s.rotation.next_rotation == 9.0


def test_the_run_round_trips_through_the_row() -> None:
    s = secret(rotation=RotationConfig(enabled=True, lambda_arn="arn:f"), rotating=RUN)
    back = codec.secret_from_row(ARN, "s", codec.secret_meta(s), ())
    assert back.rotating == RUN and back == s
    # A secret not rotating writes no "rotating" member at all (rows stay as small as before).
    assert "rotating" not in json.loads(codec.secret_meta(secret()))


def test_the_run_round_trips_through_the_replication_wire() -> None:
    s = secret(rotating=RUN)
    state = WireState("lin", 1, 2, ARN, "s", metadata=metadata.to_dict(s))
    got = decode_batch(encode_batch(Batch("us-east-1", "eu-west-1", 0, 1, (state,)))).states[0]
    assert metadata.fields_from(got.metadata)["rotating"] == RUN
    assert metadata.fields_from(metadata.to_dict(secret()))["rotating"] is None


def test_a_step_change_is_a_replicated_change() -> None:
    a = secret(rotating=RUN)
    assert not repl.same_content(
        a,
        a.evolve(
            rotating=RotationRun(
                *[RUN.version_id, RUN.token, RUN.lambda_arn, "finishSecret", False, 5.0, 0]
            )
        ),
    )
    assert not repl.same_content(a, a.evolve(rotating=None))
    assert repl.same_content(a, a.evolve(rotating=RUN))


def test_the_rotation_token_is_not_in_the_repr() -> None:
    assert RUN.token not in repr(RUN) and RUN.token not in repr(secret(rotating=RUN))


@pytest.mark.parametrize(
    ("arn", "region", "name"),
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:fn", "us-east-1", "fn"),
        ("arn:aws-cn:lambda:cn-north-1:123456789012:function:fn", "cn-north-1", "fn"),
        ("arn:aws:lambda:cn-north-1:123456789012:function:fn", "cn-north-1", None),
        ("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:fn", "us-gov-west-1", "fn"),
        ("arn:aws:lambda:eu-west-1:123456789012:function:fn", "us-east-1", None),
        ("arn:aws:lambda:us-east-1:999999999999:function:fn", "us-east-1", None),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn:1", "us-east-1", None),
        ("arn:aws:lambda:us-east-1:123456789012:function:", "us-east-1", None),
        ("not-an-arn", "us-east-1", None),
    ],
)
def test_function_name_is_the_regions_own_lambda_arn_only(
    arn: str, region: str, name: str | None
) -> None:
    assert function_name(arn, region, "123456789012") == name
