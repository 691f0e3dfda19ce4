"""HTTP routes of the public contract (design.md), one module per provider or concern."""
