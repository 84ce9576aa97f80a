"""A real S3 endpoint for the tests: moto's server on 127.0.0.1 at a free port.

boto3 (through django-storages) speaks HTTP to it exactly as to S3 or MinIO.
The server runs in a thread of the test process (`ThreadedMotoServer`), so a
test can also reach behind the HTTP interface where S3 itself offers no way,
e.g. to make an object look 60 days old for the cleanup tests. Subprocesses
(the multi-host test) use it over HTTP like any other client.

`RawStore` lets a test look at and tamper with the stored files without going
through the code under test: the local root with pathlib, S3 with boto3.
"""

import datetime as dt
import logging
import os
import re
import socket
import time
import uuid
from pathlib import Path, PurePosixPath

import boto3
from botocore.config import Config

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"
# moto keeps its state per account; the default one.
MOTO_ACCOUNT = "123456789012"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RequestLog(logging.Handler):
    """The request lines werkzeug logs for moto's server: (method, path)."""

    LINE = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+"')

    def __init__(self):
        super().__init__(logging.INFO)
        self.requests: list[tuple[str, str]] = []

    def emit(self, record):
        match = self.LINE.search(record.getMessage())
        if match:
            self.requests.append((match.group(1), match.group(2).split("?")[0]))

    def mark(self) -> int:
        return len(self.requests)

    def since(self, mark: int, *, method: str, path_suffix: str) -> list[str]:
        """Paths of `method` requests after `mark` whose path ends in the suffix."""
        return [
            path
            for seen_method, path in self.requests[mark:]
            if seen_method == method and path.endswith(path_suffix)
        ]


class S3Server:
    """moto's S3 server in a thread; `stop()` ends it."""

    def __init__(self):
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(
            ip_address="127.0.0.1", port=self.port, verbose=False
        )
        # Every request the server answers, as (method, path): a test can see
        # which objects a process read (e.g. no GET of a model in a request).
        # Kept here, not printed: a line per request would drown a failing
        # test's output.
        self.request_log = RequestLog()
        werkzeug_logger = logging.getLogger("werkzeug")
        werkzeug_logger.setLevel(logging.INFO)
        werkzeug_logger.propagate = False
        werkzeug_logger.handlers = [self.request_log]
        self._server.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().list_buckets()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}),
        )

    def create_bucket(self, prefix: str = "lotto") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self) -> dict[str, str]:
        """What a subprocess needs to reach this server."""
        return {
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
        }

    def storage_config(self, bucket: str, prefix: str) -> dict:
        """A STORAGES entry, as settings.model_storage_config builds one."""
        return {
            "BACKEND": "mlops.storage_backends.ModelS3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "location": prefix,
                "endpoint_url": self.endpoint_url,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "addressing_style": "path",
            },
        }

    def stop(self) -> None:
        self._server.stop()


class RawStore:
    """The stored files as the test sees them, bypassing the code under test."""

    backend = ""

    def read(self, name: str) -> bytes:
        raise NotImplementedError

    def write(self, name: str, data: bytes) -> None:
        raise NotImplementedError

    def delete(self, name: str) -> None:
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def files(self) -> set[str]:
        """Every stored name, relative to the root."""
        raise NotImplementedError

    def age(self, name: str, days: float) -> None:
        """Make the file look `days` old."""
        raise NotImplementedError


class LocalRawStore(RawStore):
    backend = "local"

    def __init__(self, root: Path):
        self.root = Path(root)

    def read(self, name):
        return (self.root / name).read_bytes()

    def write(self, name, data):
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def delete(self, name):
        (self.root / name).unlink()

    def exists(self, name):
        return (self.root / name).is_file()

    def files(self):
        return {
            str(PurePosixPath(p.relative_to(self.root)))
            for p in self.root.rglob("*")
            if p.is_file()
        }

    def age(self, name, days):
        stamp = time.time() - days * 86400
        os.utime(self.root / name, (stamp, stamp))


class S3RawStore(RawStore):
    """Objects under `prefix/` of a bucket, and the backups' bucket/prefix."""

    backend = "s3"

    def __init__(self, server: S3Server, routes: dict[str, tuple[str, str]]):
        # routes: first path segment -> (bucket, prefix); "" is the default.
        self.server = server
        self.client = server.client()
        self.routes = routes

    def _where(self, name: str) -> tuple[str, str]:
        bucket, prefix = self.routes.get(name.split("/", 1)[0], self.routes[""])
        return bucket, f"{prefix}/{name}"

    def read(self, name):
        bucket, key = self._where(name)
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def write(self, name, data):
        bucket, key = self._where(name)
        self.client.put_object(Bucket=bucket, Key=key, Body=data)

    def delete(self, name):
        bucket, key = self._where(name)
        self.client.delete_object(Bucket=bucket, Key=key)

    def exists(self, name):
        bucket, key = self._where(name)
        listed = self.client.list_objects_v2(Bucket=bucket, Prefix=key)
        return any(item["Key"] == key for item in listed.get("Contents", []))

    def files(self):
        found = set()
        for bucket, prefix in set(self.routes.values()):
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=f"{prefix}/"):
                for item in page.get("Contents", []):
                    found.add(item["Key"][len(prefix) + 1 :])
        return found

    def age(self, name, days):
        # S3 has no call to set LastModified; the server runs in this process.
        from moto.s3.models import s3_backends

        bucket, key = self._where(name)
        stored = s3_backends[MOTO_ACCOUNT]["aws"].buckets[bucket].keys[key]
        stored.last_modified = dt.datetime.now(dt.UTC).replace(
            tzinfo=None
        ) - dt.timedelta(days=days)
