"""The AWS CLI / SDK profile files the embedded default writes next to admin.token.

`aws-credentials` (the shared credentials file, 0600: profile `smgrpc` with the bootstrap
admin's access key) and `aws-config` (the config file: profile `smgrpc`, the Region and the
AWS listener's endpoint_url), so that

    export AWS_CONFIG_FILE=<dir>/aws-config AWS_SHARED_CREDENTIALS_FILE=<dir>/aws-credentials
    export AWS_PROFILE=smgrpc

is all boto3 and the AWS CLI need. Rewritten at every start (atomically, as admin.token): the
admin token may have been replaced, the listener's port may differ.
"""

from __future__ import annotations

from pathlib import Path

from smgrpc.auth.token_file import read_admin_token, write_private

CREDENTIALS = "aws-credentials"
CONFIG = "aws-config"
PROFILE = "smgrpc"


def write_aws_profile(token: Path, region: str, endpoint: str) -> tuple[Path, Path]:
    """Write both files beside `token` (the admin token file; TokenFileError if it cannot be
    read); returns their paths."""
    cred = read_admin_token(token)
    credentials, config = token.with_name(CREDENTIALS), token.with_name(CONFIG)
    write_private(
        credentials,
        f"[{PROFILE}]\naws_access_key_id = {cred.access_key_id}\n"
        f"aws_secret_access_key = {cred.secret_access_key}\n".encode("ascii"),
        replace=True,
    )
    write_private(
        config,
        f"[profile {PROFILE}]\nregion = {region}\nendpoint_url = {endpoint}\n".encode("ascii"),
        replace=True,
    )
    return credentials, config
