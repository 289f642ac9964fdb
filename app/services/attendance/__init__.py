"""Who was there: presence intervals, attendance reports, the roster and the event log."""
