"""Domain objects holding plaintext never print it (§C.8 rule 1)."""

from __future__ import annotations

import pickle
import traceback

import pytest

from smgrpc.core.model import Sealed, Secret, SecretValue, Version
from smgrpc.core.values import ValueRead
from tests.conftest import CANARY


def _renderings(obj: object) -> list[str]:
    return [
        repr(obj),
        str(obj),
        f"{obj}",
        f"{obj!r}",
        f"{obj:}",
        "{} {!r}".format(obj, obj),  # noqa: UP032
        repr([obj]),
        repr({"k": obj}),
        repr((obj,)),
    ]


@pytest.mark.parametrize("value", [SecretValue(string=CANARY), SecretValue(binary=CANARY.encode())])
def test_secret_value_renders_redacted(value: SecretValue) -> None:
    for text in _renderings(value):
        assert CANARY not in text and "redacted" in text


def test_value_read_renders_redacted() -> None:
    secret = Secret(
        arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:r-AbCdEf",
        name="r",
        created_at=0.0,
        last_changed_at=0.0,
    )
    version = Version("v" * 32, 0.0, ("AWSCURRENT",), "key")
    read = ValueRead(secret, version, SecretValue(string=CANARY))
    for text in _renderings(read):
        assert CANARY not in text and "redacted" in text
        assert secret.arn in text  # identifiers stay useful for debugging


def test_traceback_of_a_failure_holding_a_value_does_not_print_it() -> None:
    value = SecretValue(string=CANARY)
    try:
        raise RuntimeError(f"failed for {value!r}")
    except RuntimeError as exc:
        rendered = "".join(traceback.format_exception(exc))
    assert CANARY not in rendered


def test_secret_value_refuses_pickling() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(SecretValue(string=CANARY))


def test_sealed_repr_hides_the_wrapped_key() -> None:
    wrapped = bytes(range(60))
    assert repr(wrapped) not in repr(Sealed("key", wrapped, b"\x00" * 40))
