"""The duty-officer console: a web page served by the notifier (see ``routes.console_router``)."""
