"""A session's live feed: server-sent events fed by the session's event log (docs/feed.md)."""
