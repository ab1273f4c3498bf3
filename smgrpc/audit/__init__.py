"""The audit trail: hash-chained, signed at checkpoints, fail-closed (README "Audit trail")."""
