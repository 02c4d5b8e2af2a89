"""Tests of the command line, the contact-file reader and the sandbox state file."""
