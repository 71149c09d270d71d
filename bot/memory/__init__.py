"""Per-channel roleplay memory: every SQL statement of the project lives in this package."""

from bot.memory.connect import inspect_database, open_store
from bot.memory.errors import (
    CorruptDatabaseError,
    DatabaseFileError,
    DatabaseUnavailableError,
    MigrationError,
    NotFoundError,
    SchemaTooNewError,
    StoreError,
    UnsupportedDatabaseError,
)
from bot.memory.migrate import DatabaseState
from bot.memory.records import (
    ChannelConfig,
    GuildSettings,
    LorebookScope,
    MessageRecord,
    NewMessage,
    OocMode,
    Pin,
    RecallHit,
    ReplyMode,
    StoredPersona,
    Summary,
    UsageRecord,
    UsageReport,
    UsageTotals,
)
from bot.memory.store import Store

__all__ = [
    "ChannelConfig", "CorruptDatabaseError", "DatabaseFileError", "DatabaseState",
    "DatabaseUnavailableError", "GuildSettings", "LorebookScope", "MessageRecord",
    "MigrationError", "NewMessage", "NotFoundError", "OocMode", "Pin", "RecallHit", "ReplyMode",
    "SchemaTooNewError", "Store", "StoreError", "StoredPersona", "Summary",
    "UnsupportedDatabaseError", "UsageRecord", "UsageReport", "UsageTotals", "inspect_database",
    "open_store",
]  # fmt: skip
