"""watch_secrets against h9b's WatchSecrets: events, resumption after UNAVAILABLE (a cut link)
from the last Sequence (nothing missed, nothing twice), and ExpiredSequenceException raised to
the caller."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb
from smgrpc.client import RetryPolicy, SecretsManagerClient, errors
from tests.client.conftest import Served, serve, until
from tests.cluster.proxy import FaultProxy

FAST = RetryPolicy(max_attempts=100, base_delay=0.02, max_delay=0.2)


def _changes(events: list[pb.SecretEvent]) -> list[tuple[str, str]]:
    return [(e.type, e.name) for e in events if e.type != "Heartbeat"]


class Reader:
    """Reads a stream in a thread into a list (the test's consumer)."""

    def __init__(self, stream: Iterator[pb.SecretEvent]) -> None:
        self.events: list[pb.SecretEvent] = []
        self.error: BaseException | None = None
        self._stream = stream
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for e in self._stream:
                self.events.append(e)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc


def test_events_of_writes_with_heartbeat_first(client: SecretsManagerClient) -> None:
    with client.watch_secrets(NamePrefix="app/", retries=FAST) as stream:
        reader = Reader(stream)
        assert until(lambda: len(reader.events) >= 1)
        hb = reader.events[0]
        assert hb.type == "Heartbeat" and hb.name == "" and hb.region == "us-east-1"
        created = client.create_secret(Name="app/x", SecretString="1")
        client.create_secret(Name="other", SecretString="1")  # filtered out by the prefix
        put = client.put_secret_value(SecretId="app/x", SecretString="2")
        assert until(lambda: len(_changes(reader.events)) >= 2)
    reader.thread.join(5)
    changes = [e for e in reader.events if e.type != "Heartbeat"]
    assert [(e.type, e.name, e.arn) for e in changes[:2]] == [
        ("Created", "app/x", created.arn),
        ("VersionAdded", "app/x", created.arn),
    ]
    assert changes[1].version_id == put.version_id
    assert changes[0].sequence < changes[1].sequence
    assert all(e.name.startswith("app/") for e in changes)
    assert reader.error is None  # close() ends the iteration quietly


@pytest.fixture
def proxied(served: Served) -> Iterator[tuple[Served, FaultProxy]]:
    proxy = FaultProxy()
    proxy.target = ("127.0.0.1", served.region.port)
    served.loop.run(proxy.start())
    try:
        yield served, proxy
    finally:
        served.loop.run(proxy.close())


def test_resumes_after_a_cut_link_from_the_last_sequence(
    proxied: tuple[Served, FaultProxy],
) -> None:
    served, proxy = proxied
    states: list[str] = []
    direct = served.client()
    via_proxy = SecretsManagerClient(served.settings(endpoint=f"127.0.0.1:{proxy.port}"))
    with direct, via_proxy, via_proxy.watch_secrets(retries=FAST, on_state=states.append) as s:
        reader = Reader(s)
        assert until(lambda: states[-1:] == ["live"])
        direct.create_secret(Name="a", SecretString="1")
        assert until(lambda: len(_changes(reader.events)) == 1)
        proxy.cut()
        assert until(lambda: "down" in states)
        for i in range(3):  # changes made while the link is down
            direct.put_secret_value(SecretId="a", SecretString=str(i))
        proxy.heal()
        assert until(lambda: len(_changes(reader.events)) == 4, within=10)
        assert s.resumes >= 1
    seqs = [e.sequence for e in reader.events if e.type != "Heartbeat"]
    assert seqs == sorted(set(seqs)) and len(seqs) == 4  # in order, none twice, none missed
    assert _changes(reader.events) == [("Created", "a")] + [("VersionAdded", "a")] * 3
    assert states[0] == "connecting" and states.count("live") >= 2


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[Served]:
    yield from serve(tmp_path, watch_history=5)


def test_expired_sequence_is_raised_to_the_caller(strict: Served) -> None:
    with strict.client() as c:
        for i in range(8):
            c.create_secret(Name=f"e{i}", SecretString="v")  # history keeps 5 events
        with pytest.raises(errors.ExpiredSequenceException) as info:
            next(iter(c.watch_secrets(AfterSequence=0)))
    e = info.value
    assert e.status.name == "OUT_OF_RANGE" and e.request_id
    assert {"oldestSequence", "newestSequence"} <= set(e.metadata)
    assert "resync" in e.message.lower() or "re-read" in e.message.lower()
