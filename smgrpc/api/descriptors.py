"""The descriptors reflection serves: protoc's, with the protos' comments.

protoc's Python generator drops source_code_info from the descriptors it embeds in *_pb2.py,
and a descriptor pool's CopyToProto drops it too, so reflection clients (`grpcurl describe`,
Postman, grpcui) would see no comment. scripts/gen-protos also writes
smgrpc/_pb/descriptors.binpb (a FileDescriptorSet with the source info). CommentedPool is the
`pool` grpc_reflection asks for: every lookup goes to the process's default pool (what the
server really decodes), and a file found in that set is copied out as protoc wrote it, comments
included.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool

DESCRIPTOR_SET = "descriptors.binpb"


@cache
def descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    """The checked-in FileDescriptorSet (every proto of protos/ and its imports)."""
    data = resources.files("smgrpc._pb").joinpath(DESCRIPTOR_SET).read_bytes()
    out = descriptor_pb2.FileDescriptorSet()
    out.ParseFromString(data)
    return out


class _CommentedFile:
    """A FileDescriptor whose CopyToProto keeps the comments (what reflection serializes)."""

    def __init__(self, file: Any, stored: dict[str, descriptor_pb2.FileDescriptorProto]) -> None:
        self._file = file
        self._stored = stored
        self.name: str = file.name

    @property
    def dependencies(self) -> list[_CommentedFile]:
        return [_CommentedFile(d, self._stored) for d in self._file.dependencies]

    def CopyToProto(self, proto: descriptor_pb2.FileDescriptorProto) -> None:
        stored = self._stored.get(self.name)
        if stored is None:
            self._file.CopyToProto(proto)
        else:
            proto.CopyFrom(stored)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class CommentedPool:
    """The default descriptor pool, handing out files that serialize with their comments."""

    def __init__(self, pool: Any | None = None) -> None:
        self._pool = pool if pool is not None else descriptor_pool.Default()
        self._stored = {f.name: f for f in descriptor_set().file}

    def FindFileByName(self, name: str) -> _CommentedFile:
        return _CommentedFile(self._pool.FindFileByName(name), self._stored)

    def FindFileContainingSymbol(self, symbol: str) -> _CommentedFile:
        """Also for a method (`pkg.Service.Method`, what `grpcurl describe` of an RPC asks for),
        which the default pool does not resolve by itself."""
        try:
            return _CommentedFile(self._pool.FindFileContainingSymbol(symbol), self._stored)
        except KeyError:
            service_name, _, method = symbol.rpartition(".")
            service = self._pool.FindServiceByName(service_name)  # KeyError: not found either
            if method not in service.methods_by_name:
                raise
            return _CommentedFile(service.file, self._stored)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)
