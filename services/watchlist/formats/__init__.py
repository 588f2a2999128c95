"""One pure parser per feed format: text and options in, a ``ParsedRecord`` per record out."""
