"""The command tree's one error handler: expected errors as text, unexpected ones with an id."""

import logging
import re

import discord
from discord import app_commands

from bot.errors import UserFacingError
from tests.interactions import slash


def add_failing_commands(tree: app_commands.CommandTree) -> None:
    @app_commands.command(name="fails-politely", description="Raises an expected error.")
    async def fails_politely(interaction: discord.Interaction) -> None:
        raise UserFacingError("The tide is out — try again at dusk.")

    @app_commands.command(name="fails-badly", description="Raises an unexpected error.")
    async def fails_badly(interaction: discord.Interaction) -> None:
        raise RuntimeError("the kraken ate the database")

    @app_commands.command(name="fails-late", description="Defers, then raises.")
    async def fails_late(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        raise KeyError("lost the map")

    for command in (fails_politely, fails_badly, fails_late):
        tree.add_command(command)


async def test_expected_errors_are_shown_as_they_are(scene):
    add_failing_commands(scene.bot.tree)
    await scene.bot.tree.sync()
    answer = await slash(scene, "fails-politely", scene.alice)
    assert answer.ephemeral
    assert answer.content == "The tide is out — try again at dusk."


async def test_unexpected_errors_carry_an_incident_id_that_is_logged(scene, caplog):
    add_failing_commands(scene.bot.tree)
    await scene.bot.tree.sync()
    with caplog.at_level(logging.ERROR, logger="bot.bot"):
        answers = [
            await slash(scene, "fails-badly", scene.alice),
            await slash(scene, "fails-late", scene.bob),
        ]
    for answer, cause in zip(answers, (RuntimeError, KeyError), strict=True):
        assert answer.ephemeral
        found = re.fullmatch(
            r"Something went wrong on our side \(incident `([0-9a-f]{8})`\)\. "
            r"Please tell an admin\.",
            answer.content,
        )
        assert found, answer.content
        logged = [r for r in caplog.records if found[1] in r.getMessage()]
        assert len(logged) == 1
        assert logged[0].exc_info is not None and logged[0].exc_info[0] is cause
    assert "kraken" not in answers[0].content
