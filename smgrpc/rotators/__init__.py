"""Rotation functions: standalone gRPC servers implementing smgrpc.rotation.v1.RotationFunction.

`function` hosts one (server, step dispatch, the callback client to the public API);
`template` is the minimal example users copy; `postgresql` rotates PostgreSQL users.
"""
