"""Generated code (scripts/gen-protos)."""
