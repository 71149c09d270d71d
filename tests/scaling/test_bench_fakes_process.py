"""The roleplay benchmark with both fakes in a child process (bench/fakes_process.py)."""

import pytest

from bench.bench_roleplay import load
from bench.fakes_process import RemoteFakes, open_fakes


async def test_a_small_load_run_completes_and_splits_cpu_between_processes() -> None:
    result = await load(3, None, "process", words=4, chunk_delay=0.0)
    assert result["complete"] == 3
    assert result["rate_limit_hits"] == 0
    assert result["fake_internal_errors"] == 0
    assert result["bot_cpu_per_reply_ms"] > 0
    assert result["fakes_cpu_per_reply_ms"] > 0
    assert "cpu_per_reply_ms" not in result


async def test_the_child_shares_our_clock_reports_its_errors_and_exits() -> None:
    async with open_fakes("process") as fakes:
        assert isinstance(fakes, RemoteFakes)
        assert await fakes.check_clock(rounds=3) >= 0
        people = await fakes.populate(rooms=2)
        assert len(people.rooms) == 2
        with pytest.raises(RuntimeError, match="in the fakes' process"):
            await fakes.say(12345, people.alice, "nowhere")  # no such channel
        assert await fakes.model_count() == 0  # still answering after the error
        process = fakes._process
    assert process.exitcode == 0
