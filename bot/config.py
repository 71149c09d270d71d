"""Settings: the only place the environment and `.env` are read."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.llm.providers import DEFAULT_BASE_URLS, DEFAULT_MODELS
from bot.llm.sampling import clamp_max_tokens, clamp_temperature, clamp_top_p

Provider = Literal["openrouter", "minimax"]


class Settings(BaseSettings):
    """Every setting of the bot. Field order is the order of `.env.example`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
        validate_default=True,
    )

    # Discord
    discord_token: SecretStr = Field(description="Bot token from the Developer Portal.")
    discord_api_base: str | None = Field(
        default=None, description="REST base URL, e.g. a rate-limit proxy's .../api/v10."
    )
    discord_gateway_url: str | None = Field(
        default=None, description="Gateway URL, e.g. a gateway proxy's ws:// address."
    )
    dev_guild_id: int | None = Field(
        default=None, description="Guild to sync commands to on start (development)."
    )
    message_content_intent: bool = Field(
        default=True, description="Ask for the privileged message-content intent."
    )
    bot_allowlist: list[int] = Field(
        default_factory=list, description="Ids of other bots whose messages may be answered."
    )
    shard_count: int | None = Field(
        default=None, ge=1, description="Total shards across all processes; empty = no sharding."
    )
    shard_ids: list[int] = Field(
        default_factory=list, description="Shards this process runs, e.g. [0,1]; empty = all."
    )
    discord_startup_timeout: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Seconds to reach Discord at start before giving up.",
    )

    # Model provider
    llm_provider: Provider = Field(default="openrouter", description="openrouter or minimax.")
    llm_api_key: SecretStr = Field(description="API key for the chosen provider.")
    llm_model: str = Field(default="", description="Model id; empty = the provider's M2-her id.")
    llm_base_url: str = Field(default="", description="API base URL; empty = provider default.")
    llm_dialect: Literal["auto", "native", "flat"] = Field(
        default="auto", description="Roleplay roles (native), folded (flat) or auto-detect."
    )
    llm_temperature: float = Field(default=1.0, description="Sampling temperature, (0, 1].")
    llm_top_p: float = Field(default=0.95, description="Nucleus sampling, (0, 1].")
    llm_max_tokens: int = Field(default=600, description="Reply length cap, 1..2048 tokens.")
    llm_max_attempts: int = Field(default=3, ge=1, le=10, description="Tries before first token.")
    llm_connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to connect.")
    llm_idle_timeout: float = Field(default=30.0, gt=0, description="Seconds between chunks.")
    llm_total_timeout: float = Field(default=120.0, gt=0, description="Seconds for a whole reply.")
    openrouter_referer: str = Field(default="", description="HTTP-Referer attribution header.")
    openrouter_title: str = Field(
        default="Ensemble", description="X-OpenRouter-Title attribution header."
    )
    context_tokens: int = Field(
        default=65536, ge=4096, le=65536, description="Model context window in tokens."
    )
    history_tokens: int = Field(
        default=24000, ge=1000, le=60000, description="Prompt budget for recent history."
    )

    # Storage
    database: str = Field(
        default="./data/ensemble.sqlite3",
        description="SQLite file path (directory created), or a postgresql:// URL.",
    )
    personas_dir: Path = Field(
        default=Path("./personas"), description="Folder of shipped persona cards."
    )

    # Roleplay behaviour
    stream_edit_interval: float = Field(
        default=1.0, ge=0.0, le=10.0, description="Average seconds between edits of one message."
    )
    discord_write_timeout: float = Field(
        default=8.0,
        ge=0.5,
        le=60.0,
        description="Longest wait for one Discord write before the reply is marked interrupted.",
    )
    channel_edit_burst: int = Field(
        default=5, ge=1, le=50, description="Edits a channel may burst (Discord: 5)."
    )
    channel_edit_window: float = Field(
        default=5.0, ge=0.0, le=60.0, description="Seconds in which the burst refills."
    )
    webhook_channel_limit: int = Field(
        default=30,
        ge=0,
        le=1000,
        description="Webhook writes per channel per window (Discord's hidden limit: 30); 0 = off.",
    )
    webhook_channel_window: float = Field(
        default=60.0, ge=0.0, le=600.0, description="Seconds in which WEBHOOK_CHANNEL_LIMIT counts."
    )
    lull_seconds: float = Field(
        default=3.0, ge=0.0, le=120.0, description="Quiet time before an automatic reply."
    )
    lore_tokens: int = Field(
        default=800, ge=0, le=8000, description="Tokens the lore of one turn may use (0: off)."
    )
    recall_tokens: int = Field(
        default=600, ge=0, le=8000, description="Tokens recalled older passages may use."
    )
    recall_passages: int = Field(
        default=3, ge=0, le=10, description="Older passages recalled per turn (0: off)."
    )
    persona_turn_budget: int = Field(
        default=1, ge=0, le=10, description="Persona-to-persona turns per human message."
    )
    proxy_wait_seconds: float = Field(
        default=1.5, ge=0.0, le=10.0, description="Wait for PluralKit/Tupperbox before answering."
    )
    user_cooldown_seconds: float = Field(
        default=2.0, ge=0.0, le=600.0, description="Min seconds between one player's messages."
    )
    ooc_mode: Literal["drop", "mark"] = Field(
        default="drop", description="Out-of-character text: drop from prompt, or mark it."
    )
    gm_role_name: str = Field(
        default="Game Master", description="Role that may run scenes without Manage Channels."
    )

    # Logging and monitoring
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="DEBUG, INFO, WARNING or ERROR."
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="text lines, or json: one JSON object per line."
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="Address the metrics and health endpoint listens on."
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Port for /metrics and /healthz; empty = off.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("llm_temperature")
    @classmethod
    def _clamp_temperature(cls, value: float) -> float:
        return clamp_temperature(value)

    @field_validator("llm_top_p")
    @classmethod
    def _clamp_top_p(cls, value: float) -> float:
        return clamp_top_p(value)

    @field_validator("llm_max_tokens")
    @classmethod
    def _clamp_max_tokens(cls, value: int) -> int:
        return clamp_max_tokens(value)

    @field_validator("discord_token", "llm_api_key")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _provider_defaults(self) -> Settings:
        if not self.llm_model:
            self.llm_model = DEFAULT_MODELS[self.llm_provider]
        if not self.llm_base_url:
            self.llm_base_url = DEFAULT_BASE_URLS[self.llm_provider]
        self.llm_base_url = self.llm_base_url.rstrip("/")
        return self

    @model_validator(mode="after")
    def _shards_in_range(self) -> Settings:
        if self.shard_ids and self.shard_count is None:
            raise ValueError("SHARD_IDS needs SHARD_COUNT")
        if self.shard_count is not None:
            bad = [i for i in self.shard_ids if not 0 <= i < self.shard_count]
            if bad:
                raise ValueError(f"SHARD_IDS {bad} are outside 0..{self.shard_count - 1}")
        return self

    @property
    def uses_postgres(self) -> bool:
        """Whether `database` names a PostgreSQL server rather than a SQLite file."""
        return self.database.startswith(("postgresql://", "postgres://"))


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    return field.upper()
