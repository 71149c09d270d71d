"""The container files, checked without a Docker engine (none runs here).

The Dockerfile and docker-compose.yml are parsed for the properties that matter; the entry
point script and the health-check command are run for real in temporary folders.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from bot.metrics import Metrics
from bot.metrics_server import Health, serve_metrics

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"
CONTAINER_ENV = ROOT / "deploy" / "container-env.sh"
CODE_DIRS = ("bot", "cogs", "personas")


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    joined: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    result = []
    for line in joined:
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def index_of(predicate) -> int:
    for index, (keyword, args) in enumerate(instructions()):
        if predicate(keyword, args):
            return index
    raise AssertionError("no such instruction in the Dockerfile")


def copy_sources(args: str) -> list[str]:
    parts = [p for p in shlex.split(args) if not p.startswith("--")]
    return parts[:-1]


def test_dependencies_are_installed_in_their_own_layer_before_the_code():
    steps = instructions()
    install = index_of(lambda k, a: k == "RUN" and "pip install" in a)
    first_code = index_of(
        lambda k, a: k == "COPY" and any(s.split("/")[0] in CODE_DIRS for s in copy_sources(a))
    )
    assert install < first_code
    before = [copy_sources(a) for k, a in steps[:install] if k in {"COPY", "ADD"}]
    assert before == [["pyproject.toml", "deploy/requirements.py"]]
    assert "requirements.py" in steps[install][1] and "postgres" in steps[install][1]


def test_requirements_script_lists_runtime_and_postgres_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    result = subprocess.run(
        [sys.executable, "deploy/requirements.py", "pyproject.toml", "postgres"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    expected = project["dependencies"] + project["optional-dependencies"]["postgres"]
    assert result.stdout.splitlines() == expected
    assert any(line.startswith("prometheus-client") for line in expected)


def test_every_copied_path_exists_and_is_not_docker_ignored():
    ignored = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "!"))
    ]
    for keyword, args in instructions():
        if keyword != "COPY":
            continue
        for source in copy_sources(args):
            assert (ROOT / source).exists(), source
            assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source


def test_runs_as_non_root_in_exec_form_with_health_check_and_volumes():
    steps = dict(reversed(instructions()))  # first occurrence of each keyword wins
    assert instructions()[0] == ("FROM", "python:3.11-slim")
    assert steps["USER"] not in {"root", "0"}
    assert index_of(lambda k, _a: k == "USER") < index_of(lambda k, _a: k == "CMD")
    assert json.loads(steps["CMD"]) == ["python", "-m", "bot"]
    assert json.loads(steps["ENTRYPOINT"]) == ["/app/deploy/docker-entrypoint.sh"]
    assert set(json.loads(steps["VOLUME"])) == {"/data", "/personas"}
    assert steps["STOPSIGNAL"] == "SIGTERM"
    health = steps["HEALTHCHECK"]
    assert "--interval=" in health and "--start-period=" in health
    command = json.loads(health.split(" CMD ", 1)[1])
    assert command[-1].endswith("exec python -m bot.healthcheck")
    assert "9108" in steps["EXPOSE"]
    assert os.access(ENTRYPOINT, os.X_OK), "git must keep the entry point executable"


async def test_health_check_command_asks_the_running_bot():
    """The HEALTHCHECK's own command line, pointed at a live /healthz and at nothing."""
    steps = dict(reversed(instructions()))
    command = json.loads(steps["HEALTHCHECK"].split(" CMD ", 1)[1])
    command = [part.replace("/app/deploy", str(ROOT / "deploy")) for part in command]
    healthy = Health()

    async def health() -> Health:
        return healthy

    env = {**os.environ, "PYTHONPATH": str(ROOT), "METRICS_HOST": ""}
    async with serve_metrics(Metrics(), health, host="127.0.0.1", port=0) as server:
        env["METRICS_PORT"] = str(server.port)
        ok = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True)
    down = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True)

    assert (ok.returncode, ok.stdout.decode().strip()) == (0, "ok")
    assert down.returncode == 1


def run_entrypoint(tmp_path: Path, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE", "PERSONAS_DIR", "METRICS_HOST", "METRICS_PORT"}
    }
    base.update(
        ENSEMBLE_CONTAINER_ENV=str(CONTAINER_ENV),
        SHIPPED_PERSONAS_DIR=str(ROOT / "personas"),
        PERSONAS_DIR=str(tmp_path / "personas"),
    )
    base.update(env)
    return subprocess.run(
        ["sh", str(ENTRYPOINT), "sh", "-c", command],
        cwd=tmp_path,
        env=base,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_entry_point_script_parses(shell):
    subprocess.run([shell, "-n", str(ENTRYPOINT)], check=True)
    subprocess.run([shell, "-n", str(CONTAINER_ENV)], check=True)


def test_empty_personas_folder_gets_the_shipped_cards_and_container_defaults(tmp_path):
    (tmp_path / "personas").mkdir()

    result = run_entrypoint(
        tmp_path,
        'echo "$DATABASE|$PERSONAS_DIR|$METRICS_HOST|$METRICS_PORT"; ls "$PERSONAS_DIR"',
        DATABASE="",
        METRICS_PORT="",
    )

    assert result.returncode == 0, result.stderr
    first, *files = result.stdout.splitlines()
    assert first == f"/data/ensemble.sqlite3|{tmp_path / 'personas'}|0.0.0.0|9108"
    shipped = sorted(p.name for p in (ROOT / "personas").iterdir())
    assert sorted(files) == shipped
    assert "copied the shipped ones" in result.stderr


def test_a_folder_with_cards_is_left_alone_and_settings_given_win(tmp_path):
    (tmp_path / "personas").mkdir()
    (tmp_path / "personas" / "Seraphina.png").write_bytes(b"\x89PNG")

    result = run_entrypoint(
        tmp_path,
        'echo "$DATABASE|$METRICS_PORT"; ls "$PERSONAS_DIR"',
        DATABASE="postgresql://ensemble@db/ensemble",
        METRICS_PORT="9200",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["postgresql://ensemble@db/ensemble|9200", "Seraphina.png"]
    assert result.stderr == ""


def test_an_unwritable_personas_folder_falls_back_to_the_shipped_cards(tmp_path):
    (tmp_path / "afile").write_text("")

    result = run_entrypoint(
        tmp_path, 'echo "$PERSONAS_DIR"', PERSONAS_DIR=str(tmp_path / "afile" / "personas")
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(ROOT / "personas")
    assert "not writable: using the shipped ones" in result.stderr


def test_a_relative_database_path_is_warned_about(tmp_path):
    (tmp_path / "personas").mkdir()

    result = run_entrypoint(tmp_path, "true", DATABASE="./data/ensemble.sqlite3")

    assert result.returncode == 0
    assert "is inside the container, not on the /data volume" in result.stderr


def test_the_command_replaces_the_entry_point(tmp_path):
    """exec: the command runs as the entry point's own process, so SIGTERM reaches it."""
    (tmp_path / "personas").mkdir()
    env = {
        **os.environ,
        "ENSEMBLE_CONTAINER_ENV": str(CONTAINER_ENV),
        "SHIPPED_PERSONAS_DIR": str(ROOT / "personas"),
        "PERSONAS_DIR": str(tmp_path / "personas"),
    }
    proc = subprocess.Popen(
        ["sh", str(ENTRYPOINT), "sh", "-c", "echo $$; exit 7"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    out, _ = proc.communicate(timeout=30)

    assert int(out.strip()) == proc.pid
    assert proc.returncode == 7


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_bot_on_sqlite_volumes_by_default():
    bot = compose()["services"]["bot"]

    assert bot["build"] == "."
    assert bot["env_file"] == ".env"
    assert bot["environment"]["DATABASE"] == "${ENSEMBLE_DATABASE:-/data/ensemble.sqlite3}"
    assert bot["environment"]["PERSONAS_DIR"] == "/personas"
    assert bot["environment"]["METRICS_PORT"] == "9108"
    assert set(bot["volumes"]) == {"data:/data", "personas:/personas"}
    assert bot["ports"] == ["127.0.0.1:9108:9108"]  # metrics stay on the host's loopback
    assert bot["init"] is True
    assert bot["restart"] == "unless-stopped"
    assert "profiles" not in bot
    assert {"data", "personas"} <= set(compose()["volumes"])


def test_compose_postgres_profile_adds_the_database_the_bot_waits_for():
    services = compose()["services"]
    postgres = services["postgres"]

    assert postgres["profiles"] == ["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert postgres["volumes"] == ["postgres:/var/lib/postgresql/data"]
    assert services["bot"]["depends_on"]["postgres"] == {
        "condition": "service_healthy",
        "required": False,
    }
    assert "postgres" in compose()["volumes"]
