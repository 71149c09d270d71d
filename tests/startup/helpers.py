"""Running `python -m bot` as a child process, the way an admin would, and reading its exit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
RUN_TIMEOUT = 60.0


@dataclass
class Exit:
    """What a finished `python -m bot` left behind."""

    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        """stderr's non-empty lines."""
        return [line for line in self.stderr.splitlines() if line.strip()]


def base_env(**settings: str) -> dict[str, str]:
    """The test's environment without any Ensemble setting, plus `settings`.

    LOG_LEVEL=WARNING unless given: start-up failures are then the only line on stderr
    (at INFO, a first start also logs the database migrations it applied).
    """
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "LLM_", "DATABASE", "PERSONAS_", "METRICS_", "LOG_"))
    }
    return {
        **keep,
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
        "PERSONAS_DIR": str(ROOT / "personas"),
        **settings,
    }


def valid_secrets() -> dict[str, str]:
    """Well-formed secrets (no service accepts them)."""
    return {"DISCORD_TOKEN": "x.y.z", "LLM_API_KEY": "sk-test-1234567"}


async def run_bot(cwd: Path, env: dict[str, str], *args: str) -> Exit:
    """Run `python -m bot [args]` to completion in `cwd` with exactly `env`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError(f"python -m bot did not exit:\n{err.decode()}") from None
    assert proc.returncode is not None
    return Exit(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A loopback port that accepts connections and never answers; yields the port."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


def documented_exit_codes() -> dict[int, str]:
    """The README's start-up failure table: exit code → what it says."""
    text = README.read_text()
    section = text.split("### Start-up failures", 1)[1].split("\n#", 1)[0]
    codes: dict[int, str] = {}
    for match in re.finditer(r"^\| `?(\d+)`? \| (.+)$", section, re.MULTILINE):
        codes[int(match.group(1))] = match.group(2)
    return codes


def assert_one_line_failure(result: Exit, code: int, *fragments: str) -> str:
    """Exactly one line on stderr, starting "error: ", naming `fragments`; exit `code`."""
    assert result.lines and len(result.lines) == 1, result.stderr
    line = result.lines[0]
    assert line.startswith("error: "), line
    assert result.code == code, (result.code, line)
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert code in documented_exit_codes(), f"exit code {code} is not in the README's table"
    assert "x.y.z" not in result.stderr and "sk-test-1234567" not in result.stderr
    return line
