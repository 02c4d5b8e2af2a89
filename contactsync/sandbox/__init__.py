"""Local emulators of the providers' HTTP APIs, for our tests, the demo and users' own tests."""

from contactsync.sandbox.emulator import Emulator, json_response
from contactsync.sandbox.server import EMULATORS, RecordedRequest, Sandbox

__all__ = ["EMULATORS", "Emulator", "RecordedRequest", "Sandbox", "json_response"]
