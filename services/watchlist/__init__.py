"""Watchlist loaders: read feeds (our JSONL, INTERPOL notices, FollowTheMoney, SLTD CSV), validate
every record, and publish the entries to the compacted topic ``watchlist.entries``."""
