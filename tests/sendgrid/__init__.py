"""Tests of the SendGrid provider, translator and emulator."""
