"""Test fakes: in-process stand-ins for external services (see each subpackage's docstring)."""
