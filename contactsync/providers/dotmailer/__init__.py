"""The dotmailer provider."""
