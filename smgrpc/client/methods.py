"""One method per operation, boto3's names, AWS member names as keyword arguments
(`client.get_secret_value(SecretId="x", VersionStage="AWSPENDING")`), each returning the
operation's response message. Both mixins call `_op` of the class they are mixed into; a test
checks that every unary operation of the service has its method here."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from google.protobuf.message import Message

from smgrpc._pb.secretsmanager.v1 import secretsmanager_pb2 as pb

R = TypeVar("R", bound=Message)


class Operations:
    """The synchronous methods (SecretsManagerClient)."""

    def _op(self, response: type[R], operation: str, members: dict[str, Any]) -> R:
        raise NotImplementedError

    def batch_get_secret_value(self, **members: Any) -> pb.BatchGetSecretValueResponse:
        return self._op(pb.BatchGetSecretValueResponse, "BatchGetSecretValue", members)

    def cancel_rotate_secret(self, **members: Any) -> pb.CancelRotateSecretResponse:
        return self._op(pb.CancelRotateSecretResponse, "CancelRotateSecret", members)

    def create_secret(self, **members: Any) -> pb.CreateSecretResponse:
        return self._op(pb.CreateSecretResponse, "CreateSecret", members)

    def delete_resource_policy(self, **members: Any) -> pb.DeleteResourcePolicyResponse:
        return self._op(pb.DeleteResourcePolicyResponse, "DeleteResourcePolicy", members)

    def delete_secret(self, **members: Any) -> pb.DeleteSecretResponse:
        return self._op(pb.DeleteSecretResponse, "DeleteSecret", members)

    def describe_secret(self, **members: Any) -> pb.DescribeSecretResponse:
        return self._op(pb.DescribeSecretResponse, "DescribeSecret", members)

    def get_random_password(self, **members: Any) -> pb.GetRandomPasswordResponse:
        return self._op(pb.GetRandomPasswordResponse, "GetRandomPassword", members)

    def get_resource_policy(self, **members: Any) -> pb.GetResourcePolicyResponse:
        return self._op(pb.GetResourcePolicyResponse, "GetResourcePolicy", members)

    def get_secret_value(self, **members: Any) -> pb.GetSecretValueResponse:
        return self._op(pb.GetSecretValueResponse, "GetSecretValue", members)

    def list_secret_version_ids(self, **members: Any) -> pb.ListSecretVersionIdsResponse:
        return self._op(pb.ListSecretVersionIdsResponse, "ListSecretVersionIds", members)

    def list_secrets(self, **members: Any) -> pb.ListSecretsResponse:
        return self._op(pb.ListSecretsResponse, "ListSecrets", members)

    def put_resource_policy(self, **members: Any) -> pb.PutResourcePolicyResponse:
        return self._op(pb.PutResourcePolicyResponse, "PutResourcePolicy", members)

    def put_secret_value(self, **members: Any) -> pb.PutSecretValueResponse:
        return self._op(pb.PutSecretValueResponse, "PutSecretValue", members)

    def remove_regions_from_replication(
        self, **members: Any
    ) -> pb.RemoveRegionsFromReplicationResponse:
        return self._op(
            pb.RemoveRegionsFromReplicationResponse, "RemoveRegionsFromReplication", members
        )

    def replicate_secret_to_regions(self, **members: Any) -> pb.ReplicateSecretToRegionsResponse:
        return self._op(pb.ReplicateSecretToRegionsResponse, "ReplicateSecretToRegions", members)

    def restore_secret(self, **members: Any) -> pb.RestoreSecretResponse:
        return self._op(pb.RestoreSecretResponse, "RestoreSecret", members)

    def rotate_secret(self, **members: Any) -> pb.RotateSecretResponse:
        return self._op(pb.RotateSecretResponse, "RotateSecret", members)

    def stop_replication_to_replica(self, **members: Any) -> pb.StopReplicationToReplicaResponse:
        return self._op(pb.StopReplicationToReplicaResponse, "StopReplicationToReplica", members)

    def tag_resource(self, **members: Any) -> pb.TagResourceResponse:
        return self._op(pb.TagResourceResponse, "TagResource", members)

    def untag_resource(self, **members: Any) -> pb.UntagResourceResponse:
        return self._op(pb.UntagResourceResponse, "UntagResource", members)

    def update_secret(self, **members: Any) -> pb.UpdateSecretResponse:
        return self._op(pb.UpdateSecretResponse, "UpdateSecret", members)

    def update_secret_version_stage(self, **members: Any) -> pb.UpdateSecretVersionStageResponse:
        return self._op(pb.UpdateSecretVersionStageResponse, "UpdateSecretVersionStage", members)

    def validate_resource_policy(self, **members: Any) -> pb.ValidateResourcePolicyResponse:
        return self._op(pb.ValidateResourcePolicyResponse, "ValidateResourcePolicy", members)


class AsyncOperations:
    """The asynchronous methods (AsyncSecretsManagerClient)."""

    def _op(self, response: type[R], operation: str, members: dict[str, Any]) -> Awaitable[R]:
        raise NotImplementedError

    async def batch_get_secret_value(self, **members: Any) -> pb.BatchGetSecretValueResponse:
        return await self._op(pb.BatchGetSecretValueResponse, "BatchGetSecretValue", members)

    async def cancel_rotate_secret(self, **members: Any) -> pb.CancelRotateSecretResponse:
        return await self._op(pb.CancelRotateSecretResponse, "CancelRotateSecret", members)

    async def create_secret(self, **members: Any) -> pb.CreateSecretResponse:
        return await self._op(pb.CreateSecretResponse, "CreateSecret", members)

    async def delete_resource_policy(self, **members: Any) -> pb.DeleteResourcePolicyResponse:
        return await self._op(pb.DeleteResourcePolicyResponse, "DeleteResourcePolicy", members)

    async def delete_secret(self, **members: Any) -> pb.DeleteSecretResponse:
        return await self._op(pb.DeleteSecretResponse, "DeleteSecret", members)

    async def describe_secret(self, **members: Any) -> pb.DescribeSecretResponse:
        return await self._op(pb.DescribeSecretResponse, "DescribeSecret", members)

    async def get_random_password(self, **members: Any) -> pb.GetRandomPasswordResponse:
        return await self._op(pb.GetRandomPasswordResponse, "GetRandomPassword", members)

    async def get_resource_policy(self, **members: Any) -> pb.GetResourcePolicyResponse:
        return await self._op(pb.GetResourcePolicyResponse, "GetResourcePolicy", members)

    async def get_secret_value(self, **members: Any) -> pb.GetSecretValueResponse:
        return await self._op(pb.GetSecretValueResponse, "GetSecretValue", members)

    async def list_secret_version_ids(self, **members: Any) -> pb.ListSecretVersionIdsResponse:
        return await self._op(pb.ListSecretVersionIdsResponse, "ListSecretVersionIds", members)

    async def list_secrets(self, **members: Any) -> pb.ListSecretsResponse:
        return await self._op(pb.ListSecretsResponse, "ListSecrets", members)

    async def put_resource_policy(self, **members: Any) -> pb.PutResourcePolicyResponse:
        return await self._op(pb.PutResourcePolicyResponse, "PutResourcePolicy", members)

    async def put_secret_value(self, **members: Any) -> pb.PutSecretValueResponse:
        return await self._op(pb.PutSecretValueResponse, "PutSecretValue", members)

    async def remove_regions_from_replication(
        self, **members: Any
    ) -> pb.RemoveRegionsFromReplicationResponse:
        return await self._op(
            pb.RemoveRegionsFromReplicationResponse, "RemoveRegionsFromReplication", members
        )

    async def replicate_secret_to_regions(
        self, **members: Any
    ) -> pb.ReplicateSecretToRegionsResponse:
        return await self._op(
            pb.ReplicateSecretToRegionsResponse, "ReplicateSecretToRegions", members
        )

    async def restore_secret(self, **members: Any) -> pb.RestoreSecretResponse:
        return await self._op(pb.RestoreSecretResponse, "RestoreSecret", members)

    async def rotate_secret(self, **members: Any) -> pb.RotateSecretResponse:
        return await self._op(pb.RotateSecretResponse, "RotateSecret", members)

    async def stop_replication_to_replica(
        self, **members: Any
    ) -> pb.StopReplicationToReplicaResponse:
        return await self._op(
            pb.StopReplicationToReplicaResponse, "StopReplicationToReplica", members
        )

    async def tag_resource(self, **members: Any) -> pb.TagResourceResponse:
        return await self._op(pb.TagResourceResponse, "TagResource", members)

    async def untag_resource(self, **members: Any) -> pb.UntagResourceResponse:
        return await self._op(pb.UntagResourceResponse, "UntagResource", members)

    async def update_secret(self, **members: Any) -> pb.UpdateSecretResponse:
        return await self._op(pb.UpdateSecretResponse, "UpdateSecret", members)

    async def update_secret_version_stage(
        self, **members: Any
    ) -> pb.UpdateSecretVersionStageResponse:
        return await self._op(
            pb.UpdateSecretVersionStageResponse, "UpdateSecretVersionStage", members
        )

    async def validate_resource_policy(self, **members: Any) -> pb.ValidateResourcePolicyResponse:
        return await self._op(pb.ValidateResourcePolicyResponse, "ValidateResourcePolicy", members)
