"""contactsync: one API to bulk-manage email contacts and list subscriptions across providers."""

from __future__ import annotations

__version__ = "0.1.0"

from contactsync.errors import (
    AuthenticationError,
    ConfigurationError,
    ContactSyncError,
    ImportTimeout,
    InvalidEmail,
    InvalidInput,
    InvalidSignature,
    NetworkError,
    NotFound,
    PluginError,
    ProviderError,
    RateLimited,
    RouteCannotCarry,
    ServerError,
    UnrepresentableValue,
    UnsupportedAction,
)
from contactsync.model import (
    Contact,
    ContactEvent,
    ContactList,
    EventType,
    FieldDefinition,
    FieldType,
    ImportJob,
    ImportStatus,
    ListMember,
    ListSubscription,
    Membership,
    RowError,
    SubscriptionAction,
)
from contactsync.provider import Provider
from contactsync.registry import connect, providers

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "Contact",
    "ContactEvent",
    "ContactList",
    "ContactSyncError",
    "EventType",
    "FieldDefinition",
    "FieldType",
    "ImportJob",
    "ImportStatus",
    "ImportTimeout",
    "InvalidEmail",
    "InvalidInput",
    "InvalidSignature",
    "ListMember",
    "ListSubscription",
    "Membership",
    "NetworkError",
    "NotFound",
    "PluginError",
    "Provider",
    "ProviderError",
    "RateLimited",
    "RouteCannotCarry",
    "RowError",
    "ServerError",
    "SubscriptionAction",
    "UnrepresentableValue",
    "UnsupportedAction",
    "__version__",
    "connect",
    "providers",
]
