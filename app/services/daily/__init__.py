"""Everything that speaks to Daily: the REST client, its transport and meeting tokens."""
