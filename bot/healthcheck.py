"""`python -m bot.healthcheck`: exit 0 when the running bot's `/healthz` says ok, else 1.

For Docker's HEALTHCHECK: it reads METRICS_HOST and METRICS_PORT from the environment only
(no `.env`, no other setting), asks the bot over loopback, and prints one line.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4.0
_ANY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 (compared, never bound)


def health_url(environ: dict[str, str]) -> str | None:
    """The `/healthz` address of the bot configured by `environ`, or None if metrics are off."""
    port = environ.get("METRICS_PORT", "").strip()
    if not port:
        return None
    host = environ.get("METRICS_HOST", "").strip()
    if host in _ANY_ADDRESS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def main(environ: dict[str, str] | None = None) -> int:
    """Ask the bot for its health; print one line; 0 when healthy."""
    url = health_url(dict(os.environ) if environ is None else environ)
    if url is None:
        print("unhealthy: METRICS_PORT is not set, so there is no /healthz to ask")  # noqa: T201
        return 1
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            print(response.read().decode(errors="replace").strip())  # noqa: T201
            return 0
    except urllib.error.HTTPError as error:
        print(error.read().decode(errors="replace").strip() or f"HTTP {error.code}")  # noqa: T201
    except (OSError, urllib.error.URLError) as error:
        print(f"unhealthy: {url} did not answer ({error})")  # noqa: T201
    return 1


if __name__ == "__main__":
    sys.exit(main())
