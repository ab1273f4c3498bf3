"""The only entry point: `smgrpc serve` and user commands."""
