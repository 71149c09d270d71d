"""Fixtures for the model client tests: the fake model server and a pooled httpx client."""

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.fakes.model_server import FakeModelServer
from tests.llm.helpers import API_KEY

# Loading the CA bundle costs ~15 ms per client; every test talks plain HTTP to loopback.
_SSL_CONTEXT = httpx.create_ssl_context()


@pytest.fixture
async def fm() -> AsyncIterator[FakeModelServer]:
    async with FakeModelServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(limits=limits, verify=_SSL_CONTEXT) as client:
        yield client
