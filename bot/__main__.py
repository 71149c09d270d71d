"""`python -m bot [run|check|sync]`."""

from bot.cli import main

raise SystemExit(main())
