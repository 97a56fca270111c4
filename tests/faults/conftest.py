"""Fixtures of the fault tests: a private PostgreSQL cluster per test session (per xdist worker), a template database
(migrated, with the Ystad demo's geography, organisations and users but no reports) and a fresh copy of it per test.

Migrating and loading the demo costs most of the set-up, so it is done once per pytest run: the first worker to need
the template builds it and leaves a dump beside the workers' temporary directories; the others restore that dump.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.cluster import Cluster, Unavailable, environment, samverkan

TEMPLATE = "samverkan_template"


@dataclass(frozen=True)
class Database:
    name: str
    url: str
    # A bearer token of the demo user "rapportor", valid in every copy of the template.
    token: str


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def cluster():
    try:
        private = Cluster()
    except Unavailable as exc:
        pytest.skip(str(exc))
    try:
        private.create()
        yield private
    finally:
        private.destroy()


@pytest.fixture(scope="session")
def template_token(cluster, tmp_path_factory) -> str:
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    dump, token = shared / "faults-template.dump", shared / "faults-template.token"
    cluster.create_database(TEMPLATE)
    with _exclusive(shared / "faults-template.lock"):
        if dump.exists():
            cluster.restore(TEMPLATE, dump)
            return token.read_text()
        env = environment(cluster.url(TEMPLATE), tmp_path_factory.mktemp("var"))
        for args in (["migrate", "-v0"], ["demo", "--incidents", "0"]):
            done = samverkan(args, env)
            assert done.returncode == 0, f"samverkan {' '.join(args)} failed:\n{done.stderr[-3000:]}"
        made = samverkan(["create_api_token", "rapportor", "fault tests"], env)
        assert made.returncode == 0, made.stderr
        cluster.dump(TEMPLATE, dump)
        token.write_text(made.stdout.strip())
        return token.read_text()


@pytest.fixture
def database(cluster, template_token) -> Iterator[Database]:
    name = f"faults_{uuid.uuid4().hex[:12]}"
    cluster.create_database(name, template=TEMPLATE)
    yield Database(name=name, url=cluster.url(name), token=template_token)
    with cluster.connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
