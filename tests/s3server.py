"""An S3 endpoint on a free loopback port, for the tests of a contents manager that keeps files
in object storage (s3contents' ``S3ContentsManager``), started and stopped by the tests.

AWS cannot be reached from here, and no S3 server is packaged for Debian or PyPI but moto's: its
``moto_server`` answers the S3 API over HTTP, so the manager, botocore and the bytes on the wire
are all real; only the storage behind the API is moto's. One server serves the whole session;
each test gets a folder of its own in the bucket (``S3Folder``), whose ``put`` and ``text``
reach the bucket directly, the way another program (a sync job, a colleague's upload) would.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .process import free_port, start_service

BUCKET = "notebooks"
#: moto accepts any credentials; botocore needs some to sign its requests.
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class S3Server:
    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start ``moto_server`` and return once the bucket exists."""
        server = Path(sys.executable).parent / "moto_server"
        args = [str(server), "-H", "127.0.0.1", "-p", str(self.port)]
        self.process = start_service(args, self.log, self._made_bucket, timeout=timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1", **CREDENTIALS)

    def _made_bucket(self) -> bool:
        import botocore.exceptions

        try:
            self.client().create_bucket(Bucket=BUCKET)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            return False
        return True


@dataclass(frozen=True)
class S3Folder:
    """One test's folder of the bucket: the root of that test's server."""

    server: S3Server
    prefix: str

    @property
    def manager_config(self) -> dict[str, Any]:
        """``S3ContentsManager``'s traits for this folder."""
        return {
            "bucket": BUCKET,
            "prefix": self.prefix,
            "endpoint_url": self.server.url,
            "access_key_id": CREDENTIALS["aws_access_key_id"],
            "secret_access_key": CREDENTIALS["aws_secret_access_key"],
        }

    def put(self, name: str, data: bytes) -> None:
        """Write a file as another program would (not through Jupyter)."""
        self.server.client().put_object(Bucket=BUCKET, Key=f"{self.prefix}/{name}", Body=data)

    def text(self, name: str) -> str:
        """A file's content as stored in the bucket."""
        reply = self.server.client().get_object(Bucket=BUCKET, Key=f"{self.prefix}/{name}")
        return str(reply["Body"].read().decode())
