"""Accounts: users, passwords and the abuse limits on sign-in and code lookups."""
