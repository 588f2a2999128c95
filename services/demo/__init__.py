"""Demo and traffic generation: synthetic travellers, border posts, a demo watchlist, the demo
contact-point directory and a local webhook receiver. Every person here is invented."""
