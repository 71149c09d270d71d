"""Discord-facing helpers shared by the cogs (the only core package that imports discord)."""
