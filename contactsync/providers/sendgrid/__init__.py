"""The sendgrid provider."""
