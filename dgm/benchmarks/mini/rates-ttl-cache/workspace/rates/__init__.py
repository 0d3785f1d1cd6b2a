"""Currency conversion for the checkout service."""
