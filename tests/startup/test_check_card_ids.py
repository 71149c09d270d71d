"""`python -m bot check` says which persona id each card file got."""

from __future__ import annotations

import json

from tests.cards.helpers import raw_png, text_chunk, v2_card

from .helpers import base_env, run_bot, valid_secrets


async def test_check_lists_the_id_each_file_got(tmp_path):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "Seraphina.png").write_bytes(raw_png(text_chunk("chara", v2_card())))
    (cards / "My Card (v2).json").write_text(json.dumps({"name": "Mira"}), encoding="utf-8")
    (cards / "mira.toml").write_text('name = "Mira"\n', encoding="utf-8")
    env = base_env(
        **valid_secrets(), PERSONAS_DIR=str(cards), DATABASE=str(tmp_path / "memory.sqlite3")
    )

    result = await run_bot(tmp_path, env, "check")

    lines = result.stdout.splitlines()
    assert "  - seraphina: Seraphina (Seraphina.png)" in lines
    assert "  - my-card-v2: Mira (My Card (v2).json)" in lines
    # Same display name, later in name order: refused, and the line says which file and why.
    assert any(
        line.startswith("  ! ") and "mira.toml" in line and "already used by" in line
        for line in lines
    )
    assert result.code == 1
