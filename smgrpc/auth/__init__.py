"""Who is calling: Bearer access keys (later mTLS identities and SigV4).

Sits above crypto (it verifies secrets through crypto.access_keys, the only code that holds
key material) and below replication/api; imports no grpc, protobuf or storage driver.
"""
