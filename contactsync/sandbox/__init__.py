"""Local emulators of the providers' HTTP APIs, for our tests, the demo and users' own tests."""

from contactsync.sandbox.emulator import Emulator, JobLifecycle, MalformedRequest, StoredContact, json_response
from contactsync.sandbox.server import EMULATORS, RecordedRequest, Sandbox
from contactsync.sandbox.simulation import SIMULATED_EVENTS, SimulatedEvent

__all__ = [
    "EMULATORS",
    "SIMULATED_EVENTS",
    "Emulator",
    "JobLifecycle",
    "MalformedRequest",
    "RecordedRequest",
    "Sandbox",
    "SimulatedEvent",
    "StoredContact",
    "json_response",
]
