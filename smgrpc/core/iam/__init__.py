"""IAM-shaped identities of a Region's account: users, roles, inline policies, access keys.

Invariant: an `IamState` is an immutable snapshot; every IAM change makes a new one (with a
higher generation) and swaps it in whole, so readers (authentication on every call) never see
half a change and caches keyed by the snapshot are invalidated by the swap itself.
"""
