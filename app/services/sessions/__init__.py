"""Sessions: create, update, lifecycle, joins, access, views, room codes, reconcile."""
