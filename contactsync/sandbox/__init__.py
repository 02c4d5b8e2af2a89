"""Local emulators of the providers' HTTP APIs, for our tests, the demo and users' own tests."""

from contactsync.sandbox.emulator import Emulator, MalformedRequest, json_response
from contactsync.sandbox.server import EMULATORS, RecordedRequest, Sandbox
from contactsync.sandbox.simulation import SIMULATED_EVENTS, SimulatedEvent

__all__ = [
    "EMULATORS",
    "SIMULATED_EVENTS",
    "Emulator",
    "MalformedRequest",
    "RecordedRequest",
    "Sandbox",
    "SimulatedEvent",
    "json_response",
]
