"""Jumbe's domain: tables, ledger, services (use cases), ports and errors."""
