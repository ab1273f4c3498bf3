"""smgrpc: a self-hosted secrets service with the AWS Secrets Manager API over gRPC."""

__version__ = "0.1.0"
