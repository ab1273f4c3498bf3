"""Pure domain rules: no grpc, protobuf, aiosqlite or cryptography imports here."""
