"""Where and how each provider serves M2-her: base URLs, paths, model ids, field names."""

from __future__ import annotations

from bot.llm.types import Provider

DEFAULT_BASE_URLS: dict[Provider, str] = {
    "openrouter": "https://openrouter.ai/api/v1",
    "minimax": "https://api.minimax.io",  # mainland China: https://api.minimaxi.com
}
DEFAULT_MODELS: dict[Provider, str] = {
    "openrouter": "minimax/minimax-m2-her",
    "minimax": "M2-her",
}
ENDPOINT_PATHS: dict[Provider, str] = {
    "openrouter": "/chat/completions",
    "minimax": "/v1/text/chatcompletion_v2",
}
TOKEN_FIELDS: dict[Provider, str] = {
    "openrouter": "max_tokens",
    "minimax": "max_completion_tokens",
}
