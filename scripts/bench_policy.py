"""Policy micro-benchmark: parse time and evaluations/s of a small and a max-size policy.

`.venv/bin/python scripts/bench_policy.py [--seconds S]`. The small policy is a typical secret
resource policy (3 statements, a condition); the max-size one is 20,480 characters of ~1,200
distinct Resource/Action/condition patterns of every shape (prefix*, *suffix, a*b?c, exact,
ARNs with `??????`). Parse time is CPU time (time.process_time) of parse_policy plus the first
evaluation, best of 5, each round with fresh patterns so no cache helps. Evaluations/s is
evaluate() calls per CPU second for one prepared request that is allowed and one that no
statement matches (implicit deny: every pattern tried). Single-threaded, in-process; never
run by the tests.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tree this script lives in (its tests/ samples too)
from smgrpc.core.policy import Policy, Request, evaluate, parse_policy  # noqa: E402
from tests.policy_samples import ACCT, max_size_policy  # noqa: E402

ARN = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:"


def small_policy(tag: str) -> str:
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCT}:role/app"},
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:Describe*"],
            "Resource": f"{ARN}{tag}-??????",
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": ACCT},
            "Action": "secretsmanager:*",
            "Resource": "*",
            "Condition": {"StringLike": {"aws:PrincipalTag/team": [f"{tag}*"]}},
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "secretsmanager:DeleteSecret",
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/admin*"}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def requests(tag: str, small: bool) -> tuple[Request, Request]:
    user = f"arn:aws:iam::{ACCT}:role/app" if small else f"arn:aws:iam::{ACCT}:user/u"
    allowed = Request.build(
        principal_arn=user,
        principal_account=ACCT,
        action="secretsmanager:GetSecretValue" if small else f"s:{tag}5e-read",
        resource=f"{ARN}{tag}-AbCdEf" if small else f"{ARN}{tag}1f-AbCdEf",
        keys={"aws:ResourceTag/team": "none"},
    )
    denied = Request.build(
        principal_arn=f"arn:aws:iam::{ACCT}:user/other",
        principal_account=ACCT,
        action="secretsmanager:PutSecretValue" if small else "s:Unrelated",
        resource=f"{ARN}zz-AbCdEf",
        principal_tags={"team": "other"},
        keys={"aws:ResourceTag/team": "none"},
    )
    return allowed, denied


def parse_ms(make: Callable[[str], str], small: bool, rounds: int = 5) -> tuple[float, Policy, str]:
    """Best CPU time of parse + first evaluation, the last policy parsed and its tag."""
    best, policy, tag = float("inf"), None, ""
    for r in range(rounds):
        tag = f"{r}{time.monotonic_ns() % 256:02x}"  # fresh patterns: no cache helps
        text = make(tag)
        allowed, _ = requests(tag, small)
        start = time.process_time()
        policy = parse_policy(text, kind="resource")
        decision = evaluate(allowed, (), policy)
        best = min(best, time.process_time() - start)
        assert decision.allowed, decision
    assert policy is not None
    return best * 1000, policy, tag


def rate(policy: Policy, request: Request, seconds: float) -> float:
    """Evaluations per CPU second (process_time: steadier than wall time on a busy machine)."""
    n, start = 0, time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        for _ in range(1000):
            evaluate(request, (), policy)
        n += 1000
    return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="per evaluation figure")
    args = ap.parse_args()
    for name, make, small in (("small", small_policy, True), ("max-size", max_size_policy, False)):
        ms, policy, tag = parse_ms(make, small)
        allowed, denied = requests(tag, small)
        assert evaluate(allowed, (), policy).allowed and not evaluate(denied, (), policy).allowed
        print(
            f"{name:9} {len(make(tag)):6} chars  parse+first eval {ms:6.2f} ms CPU  "
            f"allowed {rate(policy, allowed, args.seconds):9,.0f}/s  "
            f"implicit deny {rate(policy, denied, args.seconds):9,.0f}/s"
        )


if __name__ == "__main__":
    main()
