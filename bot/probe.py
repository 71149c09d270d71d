"""`python -m bot probe`: check a new provider key with a few tokens and say what works."""

from __future__ import annotations

import httpx

from bot.config import Settings
from bot.llm.probe import ProbeReport, ProbeResult, probe_endpoint
from bot.services import build_llm
from bot.startup import ExitCode


def _say(line: str) -> None:
    print(line)  # noqa: T201 (this command's output is its report)


async def run_probe(settings: Settings) -> int:
    """Probe the configured endpoint and print the report; exit code 1 if nothing worked."""
    _say(f"probing {settings.llm_provider} at {settings.llm_base_url}, model {settings.llm_model}")
    async with httpx.AsyncClient() as http:
        client = build_llm(settings, http)
        report = await probe_endpoint(client)
    for line in describe_report(report):
        _say(line)
    return ExitCode.OK if report.dialect is not None else ExitCode.FAILED


def describe_report(report: ProbeReport) -> list[str]:
    """The report as lines of text."""
    lines = [
        _line("native roles (system, user_system, group, sample_*, names)", report.native),
        _line("flat roles (system, user, assistant)", report.flat),
    ]
    if report.cache:
        cached = report.cached_tokens
        if cached is None:
            verdict = "the provider does not report cached_tokens"
        elif cached > 0:
            prompt = report.cache[1].usage.prompt_tokens if report.cache[1].usage else 0
            verdict = f"yes: {cached:,} of {prompt:,} prompt tokens came from the cache"
        else:
            verdict = "no: cached_tokens came back as 0 on the repeated prefix"
        lines.append(f"prompt caching: {verdict}")
    lines.append(f"cost of this probe: ${report.cost_usd:.6f}")
    if report.dialect == "native":
        lines.append("verdict: this endpoint accepts M2-her's roleplay roles (LLM_DIALECT=auto)")
    elif report.dialect == "flat":
        lines.append(
            "verdict: only flat roles work here; Ensemble will switch to flat by itself "
            "(or set LLM_DIALECT=flat)"
        )
    else:
        lines.append("verdict: nothing worked; check LLM_API_KEY, LLM_BASE_URL and LLM_MODEL")
    return lines


def _line(label: str, result: ProbeResult) -> str:
    if not result.ok:
        return f"{label}: refused: {result.error}"
    ttft = (
        "no text"
        if result.first_token_seconds is None
        else f"first token after {result.first_token_seconds * 1000:.0f} ms"
    )
    tokens = ""
    if result.usage is not None:
        tokens = f", {result.usage.prompt_tokens} + {result.usage.completion_tokens} tokens"
    return f"{label}: accepted ({ttft}{tokens}, ${result.cost_usd:.6f})"
