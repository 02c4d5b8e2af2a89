"""The contactsync test suite."""
