"""gRPC surface: servicers translate, one table maps errors."""
