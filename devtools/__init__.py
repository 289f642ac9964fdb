"""Developer tools for Tutorium: local stand-ins for external services, never shipped."""
