"""Staging-label transitions as pure functions over a secret's versions.

Invariant kept by every function here: a label sits on at most one version, and moving
AWSCURRENT moves AWSPREVIOUS to the version AWSCURRENT left (in the same step). A new version
taking AWSCURRENT (PutSecretValue, UpdateSecret) also takes AWSPENDING off the version it
leaves: AWSPENDING beside AWSCURRENT marks a finished rotation, and left behind on an old version
it would read as a rotation still in progress (AWS-recorded: that version ends ["AWSPREVIOUS"]).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from smgrpc.core.errors import InvalidParameter, LimitExceeded
from smgrpc.core.model import AWSCURRENT, AWSPENDING, AWSPREVIOUS, Version
from smgrpc.core.validate import MAX_STAGES


def _without(stages: tuple[str, ...], label: str) -> tuple[str, ...]:
    return tuple(s for s in stages if s != label)


def _with(stages: tuple[str, ...], label: str) -> tuple[str, ...]:
    return stages if label in stages else (*stages, label)


def _attach(versions: list[Version], scan: Sequence[int], target: int, label: str) -> None:
    """Put label on versions[target] and take it off every other one (AWSCURRENT drags PREVIOUS).

    `scan` holds the indices that may carry labels (the target among them): a secret may keep
    thousands of label-less versions, which no label move touches.
    """
    holder = next((i for i in scan if label in versions[i].stages), None)
    if label == AWSCURRENT and holder is not None and holder != target:
        for i in scan:
            v = versions[i]
            if i == holder:
                versions[i] = replace(v, stages=_with(_without(v.stages, AWSPREVIOUS), AWSPREVIOUS))
            elif AWSPREVIOUS in v.stages:
                versions[i] = replace(v, stages=_without(v.stages, AWSPREVIOUS))
    for i in scan:
        v = versions[i]
        if i == target:
            stages = _with(v.stages, label)
            if label == AWSCURRENT:
                stages = _without(stages, AWSPREVIOUS)
            versions[i] = replace(v, stages=stages)
        elif label in v.stages:
            versions[i] = replace(v, stages=_without(v.stages, label))


def add_version(
    versions: Sequence[Version],
    new: Version,
    requested: Sequence[str] | None,
    replaces: bool = True,
) -> tuple[Version, ...]:
    """Add a version with the requested labels (default AWSCURRENT), moving them atomically.

    A version with the same id (an AWSPENDING version being filled in) is replaced. If the
    secret has no AWSCURRENT yet, the new version gets it: a secret always has a current value.
    """
    wanted = list(dict.fromkeys(requested if requested is not None else [AWSCURRENT]))
    # Most writes add a fresh id: copy the tuple as is unless that id is being refilled.
    out = list(versions)
    if replaces:
        out = [v for v in out if v.version_id != new.version_id]
    scan = [i for i, v in enumerate(out) if v.stages]
    if not any(AWSCURRENT in out[i].stages for i in scan) and AWSCURRENT not in wanted:
        wanted.append(AWSCURRENT)
    if AWSCURRENT in wanted:
        # The finished-rotation marker stays behind with AWSCURRENT's old holder only as a
        # false "rotation in progress": drop it (see the module docstring).
        was = next((i for i in scan if AWSCURRENT in out[i].stages), None)
        if was is not None and AWSPENDING in out[was].stages:
            out[was] = replace(out[was], stages=_without(out[was].stages, AWSPENDING))
    target = len(out)
    out.append(replace(new, stages=()))
    scan.append(target)
    for label in wanted:
        _attach(out, scan, target, label)
    # Keep the requested order on the new version (AWS echoes the request's order).
    final = out[target]
    ordered = tuple(s for s in wanted if s in final.stages)
    ordered += tuple(s for s in final.stages if s not in ordered)
    out[target] = replace(final, stages=ordered)
    return tuple(out)


def move_stage(
    versions: Sequence[Version],
    label: str,
    remove_from: str | None,
    move_to: str | None,
) -> tuple[Version, ...]:
    """UpdateSecretVersionStage: move or remove one label, checked as AWS checks it."""
    ids = {v.version_id for v in versions}
    holder = next((v.version_id for v in versions if label in v.stages), None)
    if remove_from is not None:
        if remove_from not in ids:
            raise InvalidParameter(
                f"Not a valid version: {remove_from}", field="removeFromVersionId"
            )
        if holder != remove_from:
            raise InvalidParameter(
                f"Version stage {label} not found in version {remove_from}",
                field="removeFromVersionId",
            )
    if move_to is not None and move_to not in ids:
        raise InvalidParameter(f"Not a valid version: {move_to}", field="moveToVersionId")
    if move_to is None and remove_from is None:
        raise InvalidParameter(
            "You must specify RemoveFromVersionId, MoveToVersionId, or both.",
            field="moveToVersionId",
        )
    if move_to is not None and holder is not None and holder != move_to and remove_from is None:
        raise InvalidParameter(
            f"The parameter RemoveFromVersionId can't be empty. Staging label {label} is "
            f"currently attached to version {holder}, so you must explicitly reference that "
            "version in RemoveFromVersionId.",
            field="removeFromVersionId",
        )
    out = list(versions)
    if move_to is None:
        if label == AWSCURRENT:
            raise InvalidParameter(
                "You can't remove the staging label AWSCURRENT without moving it to another "
                "version: a secret must keep a current version.",
                field="moveToVersionId",
            )
        return tuple(
            replace(v, stages=_without(v.stages, label)) if v.version_id == remove_from else v
            for v in out
        )
    target = next(v for v in out if v.version_id == move_to)
    if label not in target.stages and len(target.stages) >= MAX_STAGES:
        raise LimitExceeded(
            f"A version can have at most {MAX_STAGES} staging labels.", field="versionStage"
        )
    _attach(
        out, range(len(out)), next(i for i, v in enumerate(out) if v.version_id == move_to), label
    )
    return tuple(out)


def add_pending(versions: Sequence[Version], new: Version) -> tuple[Version, ...]:
    """RotateSecret: append `new` (an id no version has) carrying AWSPENDING alone.

    AWSPENDING leaves whichever version held it (a finished rotation's marker beside
    AWSCURRENT); no other label moves: AWSCURRENT stays where it is even on a secret that has
    none yet (the rotation function's finishSecret moves it).
    """
    out = [
        replace(v, stages=_without(v.stages, AWSPENDING)) if AWSPENDING in v.stages else v
        for v in versions
    ]
    out.append(replace(new, stages=(AWSPENDING,)))
    return tuple(out)


def drop_label(versions: Sequence[Version], version_id: str, label: str) -> tuple[Version, ...]:
    """Take `label` off one version (no-op if it does not carry it). Never AWSCURRENT: a
    secret keeps its current version (callers drop AWSPENDING)."""
    assert label != AWSCURRENT
    return tuple(
        replace(v, stages=_without(v.stages, label))
        if v.version_id == version_id and label in v.stages
        else v
        for v in versions
    )
