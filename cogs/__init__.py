"""Discord extensions (cogs); the bot loads the ones listed in `bot.bot.EXTENSIONS`."""
