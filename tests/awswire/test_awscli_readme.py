"""README "AWS SDKs and the AWS CLI": its shell block (the AWS CLI with nothing but the
profile's three variables) and its Python block (boto3, the paginator, the caching library),
run verbatim against a real `smgrpc serve --aws-listen` process.

The profile files are the embedded default's (`smgrpc.auth.aws_profile.write_aws_profile`,
what `scripts/serve` writes next to admin.token), pointed at this server's listener and laid
out as the quick start's `smgrpc-data/us-east-1/` in the working directory; the embedded
default's own fixed ports (50051, 4566) are not used, and its writing the files is
tests/awswire/test_listener_config.py's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from smgrpc.auth.aws_profile import write_aws_profile
from tests.awswire.conftest import AwsRegion
from tests.awswire.test_awscli import clean_env
from tests.harness import ROOT

NOT_FOUND = (
    "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: "
    "Secrets Manager can't find the specified secret."
)


def blocks() -> tuple[str, str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("\n## AWS SDKs and the AWS CLI\n") + 1 :]
    section = section[: section.index("\n## ")]
    sh = re.search(r"```sh\n(.*?)```", section, re.S)
    py = re.search(r"```python\n(.*?)```", section, re.S)
    assert sh is not None and py is not None
    return sh.group(1), py.group(1)


def test_readme_blocks_run_verbatim(aws: AwsRegion, tmp_path: Path) -> None:
    sh, py = blocks()
    data = tmp_path / "smgrpc-data" / "us-east-1"
    data.mkdir(parents=True)
    shutil.copy(aws.server.data_dir / "admin.token", data / "admin.token")
    (data / "admin.token").chmod(0o600)
    write_aws_profile(data / "admin.token", "us-east-1", aws.endpoint)
    assert (data / "aws-config").read_text() == (
        f"[profile smgrpc]\nregion = us-east-1\nendpoint_url = {aws.endpoint}\n"
    )
    env = clean_env(tmp_path)
    del env["AWS_CONFIG_FILE"], env["AWS_SHARED_CREDENTIALS_FILE"]  # the block exports them
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", sh], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\ns3cr3t\n" in out and '\n"demo/db"\n' in out
    assert "\ndemo/api-key\tdemo/db\n" in out
    assert out.endswith("exit code 255\n")
    assert done.stderr == f"\n{NOT_FOUND}\n"
    assert aws.admin.secret not in out + done.stderr

    # The Python block, with the same three variables exported.
    exports = dict(re.findall(r"(AWS_[A-Z_]+)=(\S+)", sh))
    assert set(exports) == {"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE"}
    ran = subprocess.run(
        [sys.executable, "-c", py], cwd=tmp_path, env={**env, **exports}, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        '{"username": "app", "password": "hunter2"}',
        "['demo/api-key']",
        "['demo/db']",
        "ResourceNotFoundException Secrets Manager can't find the specified secret.",
        "s3cr3t",
    ]
