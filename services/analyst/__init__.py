"""The analysis service: patterns across border events, published as leads for analysts."""
