"""IAM policy language: parse once into an immutable Policy, evaluate many requests.

Invariants:
- Pure and stdlib-only: no I/O, no clock, no global mutable state except bounded LRU caches
  of compiled patterns; every compiled object is frozen and safe to share and cache.
- `parse_policy` either returns a fully validated Policy or raises MalformedPolicyDocument
  with an IAM-style message; evaluation never raises for any Request.
- Evaluation (AWS semantics): an applicable explicit Deny anywhere wins; then an Allow from an
  identity policy or the resource policy (same account; a resource in another account needs
  both); else implicit deny. The Decision names the statement (Sid/index, policy type) that
  decided, or the policy type that allowed nothing, and words AWS's AccessDenied tail.
- Actions match case-insensitively, resources and ARNs case-sensitively; condition key names
  are case-insensitive; value case is the operator's. Missing keys follow the AWS rules in
  `conditions`. Policy variables are substituted only under Version 2012-10-17.

Approximations (not AWS-verified): a condition whose policy values all use unresolvable
variables is false for positive operators and true for negated ones (like a missing key);
NotPrincipal naming an account covers every principal of that account; Service, Federated and
CanonicalUser principals are accepted but never match; SCPs, permissions boundaries and
session policies are out of scope.
"""

from smgrpc.core.policy.evaluate import ContextValue, Decision, Request, evaluate
from smgrpc.core.policy.parse import MAX_RESOURCE_POLICY_CHARS, Policy, parse_policy

__all__ = [
    "MAX_RESOURCE_POLICY_CHARS",
    "ContextValue",
    "Decision",
    "Policy",
    "Request",
    "evaluate",
    "parse_policy",
]
