"""Real `python -m bot` child processes against the fakes running in the test process."""

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from tests.fakes.discord import FakeDiscord
from tests.fakes.model_server import FakeModelServer

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 30.0


class BotProcess:
    """One `python -m bot` child process and what it logged."""

    def __init__(self, name: str, env: dict[str, str], cwd: Path) -> None:
        self.name, self.env, self.cwd = name, env, cwd
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=self.cwd,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip())

    async def wait_ready(self) -> None:
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
        while not any("Ready as" in line for line in self.lines):
            assert self.proc is not None
            if self.proc.returncode is not None or asyncio.get_running_loop().time() > deadline:
                log = "\n".join(self.lines[-30:])
                raise AssertionError(f"{self.name} did not become ready:\n{log}")
            await asyncio.sleep(0.05)

    async def signal(self, signum: int) -> None:
        """Send a signal (SIGTERM for `docker stop`, SIGKILL for a crash)."""
        assert self.proc is not None
        self.proc.send_signal(signum)

    async def wait_exit(self, timeout: float) -> int:
        """The exit code, once the process has ended."""
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)
        return code

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)


def bot_env(
    fake: FakeDiscord, model: FakeModelServer, database: str, shards: str | None = None
) -> dict[str, str]:
    """Everything a bot process needs, pointed at the fakes; `shards` e.g. "[0]" of two."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "LLM_"))}
    env = {
        **keep,
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "LLM_API_KEY": model.api_key,
        "LLM_BASE_URL": model.base_url_openrouter,
        "DATABASE": database,
        "PERSONAS_DIR": str(ROOT / "personas"),
        "USER_COOLDOWN_SECONDS": "0",
        "LOG_LEVEL": "INFO",
    }
    if shards is not None:
        env["SHARD_COUNT"] = "2"
        env["SHARD_IDS"] = shards
    return env
