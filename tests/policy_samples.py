"""Policy documents shared by the policy tests and scripts/bench_policy.py."""

from __future__ import annotations

import json

ACCT = "111122223333"


def max_size_policy(tag: str) -> str:
    """20,480 characters, ~1,200 distinct Action, Resource and condition patterns of every shape."""
    arn = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:"
    res = [f"{arn}{tag}{i:x}-??????" for i in range(120)]
    res += [f"{tag}{i:x}*" for i in range(400)] + [f"*{tag}{i:x}" for i in range(150)]
    res += [f"{tag}*{i:x}?x*y" for i in range(120)]
    acts = [f"s:{tag}{i:x}*" for i in range(300)] + [f"s:Get{tag}{i:x}" for i in range(80)]
    like = [f"*{tag}{i:x}*" for i in range(60)]
    statements = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCT}:user/u"},
            "Action": acts,
            "Resource": res,
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "StringLike": {"aws:ResourceTag/team": like},
                "ArnNotLike": {"aws:PrincipalArn": [f"arn:aws:iam::{ACCT}:role/{tag}*"]},
            },
        },
    ]
    doc = {"Version": "2012-10-17", "Id": "", "Statement": statements}
    size = len(json.dumps(doc, separators=(",", ":")))
    assert size <= 20_480, size
    doc["Id"] = "x" * (20_480 - size)  # exactly the resource-policy limit
    return json.dumps(doc, separators=(",", ":"))
