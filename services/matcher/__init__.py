"""matcher: screens events against the watchlist and publishes alerts (engine in ``domain``)."""
