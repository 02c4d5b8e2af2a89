"""The mailjet provider."""
