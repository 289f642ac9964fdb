"""Daily's webhooks: signature, event parsing and what each event changes."""
