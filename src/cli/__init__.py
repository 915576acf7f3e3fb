"""Command-line surfaces of the agent (``kit``)."""
