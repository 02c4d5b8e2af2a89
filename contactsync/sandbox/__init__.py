"""Local emulators of the providers' HTTP APIs, for our tests, the demo and users' own tests."""

from contactsync.sandbox.emulator import Emulator, MalformedRequest, json_response
from contactsync.sandbox.server import EMULATORS, RecordedRequest, Sandbox

__all__ = ["EMULATORS", "Emulator", "MalformedRequest", "RecordedRequest", "Sandbox", "json_response"]
