"""matcher: screens events against the watchlist and publishes alerts (screener: ``domain``)."""
