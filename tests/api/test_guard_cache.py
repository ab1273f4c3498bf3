"""What the guard's decision cache may hold."""

from __future__ import annotations

from smgrpc.api.guard import time_free
from smgrpc.core.policy import parse_policy


def test_decisions_of_clock_dependent_policies_are_never_cached() -> None:
    """The guard caches allows only of policies that cannot change with the clock: a time
    condition, a policy variable in a condition, or (review Low 14) a clock variable in a
    Resource or Action pattern all make it decide afresh; ${aws:username} does not."""

    def doc(resource: str, cond: str = "") -> str:
        return (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*",'
            f'"Resource":"{resource}"{cond}}}]}}'
        )

    clock_var = doc("arn:aws:secretsmanager:*:*:secret:${aws:CurrentTime}*")
    epoch_var = doc("arn:aws:secretsmanager:*:*:secret:${aws:EpochTime}*")
    user_var = doc("arn:aws:secretsmanager:*:*:secret:${aws:username}/*")
    dated = doc("*", ',"Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}')
    verdicts = [
        time_free(parse_policy(d, kind="identity"))
        for d in (clock_var, epoch_var, user_var, dated, doc("*"))
    ]
    assert verdicts == [False, False, True, False, True]
