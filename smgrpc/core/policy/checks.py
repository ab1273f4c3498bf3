"""Resource-policy checks: BlockPublicPolicy's broad-access test and ValidateResourcePolicy.

Sources: replication-security.md §C.5 ("What BlockPublicPolicy and ValidateResourcePolicy
check"), §A.15 (error wording), §D rows 19-20 and §E.8; api-behaviors.md §2.12 and §2.23.

AWS runs three checks in ValidateResourcePolicy: broad access (the Zelkova automated-reasoning
engine), syntax, and "the policy does not lock out a caller". PutResourcePolicy with
BlockPublicPolicy=true raises PublicPolicyException when the policy "did not prevent broad
access"; syntax errors raise MalformedPolicyDocumentException there, while
ValidateResourcePolicy reports them as a failed result (§D row 19), which is what we do.

**Approximation of Zelkova** (AWS reasons over all possible requests; we look at each
statement's shape). A statement grants broad access when it is an Allow whose Principal is
`"*"` / `{"AWS": "*"}` (or a list containing `"*"`), or that uses NotPrincipal, and none of
its conditions *pins* the caller. A condition pins when all of:
- its key is one of aws:PrincipalAccount, aws:PrincipalArn, aws:PrincipalOrgID,
  aws:SourceAccount, aws:SourceArn, aws:SourceOwner;
- its operator is positive String/ARN equality or match (StringEquals[IgnoreCase],
  StringLike, ArnEquals, ArnLike; a `ForAnyValue:` qualifier is fine), not negated, not
  `...IfExists`, not `ForAllValues:` (both are true when the key is missing);
- every value is concrete: no policy variable, and no `*`/`?` except, for the two ARN keys,
  in the resource part of an ARN whose other fields are literal and whose account is 12
  digits (`arn:aws:iam::111122223333:role/*` pins to one account).
A broad Allow is also neutralised by a Deny statement for Principal "*" on Action "*" (or
`secretsmanager:*`) and Resource "*" whose only condition is the negated form of a pinning
condition (`StringNotEquals aws:PrincipalAccount 111122223333`): a caller outside the pin, or
one lacking the key, is denied.

Conservative (we call public what Zelkova may accept): Resource/Action scope of the Allow is
ignored (an Allow on an unrelated resource still counts); pins by other keys (aws:SourceVpce,
aws:SourceIp, aws:userid, aws:PrincipalOrgPaths, ...) are not recognised; StringEquals with a
literal `*` value is treated as a wildcard; a Deny neutralises only in the exact shape above.
Lenient: Service, Federated and CanonicalUser principals (even `"*"`) are never broad, since
the parser keeps AWS principals only; cross-account AWS principals alone are not broad.

**Lockout** (§C.5 "for the clone"): the proposed policy is evaluated for the calling principal
with its request context; the check fails if the policy explicitly denies the caller
secretsmanager:PutResourcePolicy or secretsmanager:DeleteResourcePolicy on the secret. Without
a SecretId the resource is `arn:<partition>:secretsmanager:*:<caller account>:secret:*`, so
only statements whose Resource covers every secret of the account are seen.

**Check names** are ours: no AWS source gives the exact CheckName strings (§E.8), so they are
constants here, easy to change once verified.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from smgrpc.core.errors import MalformedPolicyDocument, PublicPolicy
from smgrpc.core.policy.conditions import Condition
from smgrpc.core.policy.evaluate import Request, evaluate
from smgrpc.core.policy.parse import Policy, Statement, parse_policy

CHECK_SYNTAX = "SYNTAX_CHECK"
CHECK_BROAD_ACCESS = "BROAD_ACCESS_CHECK"
CHECK_LOCKOUT = "LOCKOUT_CHECK"
# §A.15, the model's PublicPolicyException description.
PUBLIC_POLICY_MESSAGE = (
    "The BlockPublicPolicy parameter is set to true, and the resource policy did not "
    "prevent broad access to the secret."
)
LOCKOUT_ACTIONS = ("secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy")

_PIN_KEYS = frozenset(
    {
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalorgid",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceowner",
    }
)
_ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn"})
_PIN_FAMILIES = frozenset({"str", "stri", "like", "arn"})
_ACCOUNT = re.compile(r"\d{12}")
_ALL_ACTIONS = frozenset({"*", "secretsmanager:*"})


@dataclass(frozen=True, slots=True)
class ValidationErrorsEntry:
    """One entry of ValidateResourcePolicy's ValidationErrors (model member names)."""

    check_name: str
    error_message: str


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """ValidateResourcePolicy's response: PolicyValidationPassed and ValidationErrors."""

    policy_validation_passed: bool
    validation_errors: tuple[ValidationErrorsEntry, ...]


def _value_pins(key: str, value: str) -> bool:
    if not value or "${" in value:
        return False
    if "*" not in value and "?" not in value:
        return True
    if key not in _ARN_KEYS:
        return False
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or _ACCOUNT.fullmatch(parts[4]) is None:
        return False
    return not any("*" in part or "?" in part for part in parts[:5])


def _pin_shape(c: Condition) -> bool:
    return (
        c.key in _PIN_KEYS
        and c.family in _PIN_FAMILIES
        and not c.if_exists
        and all(_value_pins(c.key, v) for v in c.values)
    )


def condition_pins(c: Condition) -> bool:
    """True when this condition restricts the caller to named accounts/principals/orgs."""
    return _pin_shape(c) and not c.negated and c.qualifier != "all"


def _grants_everyone(st: Statement) -> bool:
    p = st.principals
    return st.allow and p is not None and (st.not_principal or p.everyone)


def _deny_fences_everyone(st: Statement) -> bool:
    """A Deny for everyone on every action/resource unless the caller is inside a pin."""
    p = st.principals
    if st.allow or p is None or st.not_principal or not p.everyone:
        return False
    if st.not_action or not _ALL_ACTIONS & {a.lower() for a in st.actions.patterns}:
        return False
    if st.not_resource or not st.resources.match_all or len(st.conditions) != 1:
        return False
    c = st.conditions[0]
    return _pin_shape(c) and c.negated and c.qualifier == ""


def broad_access_statements(policy: Policy) -> tuple[Statement, ...]:
    """The Allow statements that grant broad (public) access; empty when none do."""
    if any(_deny_fences_everyone(st) for st in policy.denies):
        return ()
    return tuple(
        st
        for st in policy.allows
        if _grants_everyone(st) and not any(condition_pins(c) for c in st.conditions)
    )


def is_public(policy: Policy) -> bool:
    """BlockPublicPolicy's test: does the policy fail to prevent broad access?"""
    return bool(broad_access_statements(policy))


def check_put_resource_policy(text: str, *, block_public: bool) -> Policy:
    """PutResourcePolicy's checks: MalformedPolicyDocument on syntax, PublicPolicy if blocked."""
    policy = parse_policy(text, kind="resource")
    if block_public and is_public(policy):
        raise PublicPolicy(PUBLIC_POLICY_MESSAGE, field="ResourcePolicy")
    return policy


def _where(sid: str | None, index: int | None) -> str:
    return f"statement {sid!r}" if sid else f"statement #{index}"


def _lockout_request(caller: Request, action: str, secret_arn: str | None) -> Request:
    if secret_arn is None:
        partition = caller.principal_arn.split(":", 2)[1] if ":" in caller.principal_arn else ""
        partition = partition or "aws"
        secret_arn = f"arn:{partition}:secretsmanager:*:{caller.principal_account}:secret:*"
    return dataclasses.replace(caller, action=action, resource=secret_arn)


def lockout_errors(
    policy: Policy, caller: Request, secret_arn: str | None
) -> tuple[ValidationErrorsEntry, ...]:
    """One entry per policy-management action the policy explicitly denies the caller."""
    out = []
    for action in LOCKOUT_ACTIONS:
        req = _lockout_request(caller, action, secret_arn)
        decision = evaluate(req, (), policy)
        if decision.outcome != "explicit_deny":
            continue
        where = _where(decision.sid, decision.statement_index)
        out.append(
            ValidationErrorsEntry(
                CHECK_LOCKOUT,
                f"The resource policy locks out the caller: {where} denies "
                f"{caller.principal_arn} {action} on the secret.",
            )
        )
    return tuple(out)


def broad_access_errors(policy: Policy) -> tuple[ValidationErrorsEntry, ...]:
    return tuple(
        ValidationErrorsEntry(
            CHECK_BROAD_ACCESS,
            "The resource policy did not prevent broad access to the secret: "
            f"{_where(st.sid, st.index)} allows a wildcard principal without a condition "
            "that restricts it to specific accounts, principals or an organization.",
        )
        for st in broad_access_statements(policy)
    )


def validate_resource_policy(
    text: str, caller: Request, secret_arn: str | None = None
) -> ValidationResult:
    """ValidateResourcePolicy: syntax, then broad-access and lockout checks, never raising.

    `caller` is the request context of the ValidateResourcePolicy call (its action and resource
    are replaced per lockout action); `secret_arn` is the resolved SecretId, if one was given.
    """
    try:
        policy = parse_policy(text, kind="resource")
    except MalformedPolicyDocument as e:
        return ValidationResult(False, (ValidationErrorsEntry(CHECK_SYNTAX, e.message),))
    errors = broad_access_errors(policy) + lockout_errors(policy, caller, secret_arn)
    return ValidationResult(not errors, errors)
