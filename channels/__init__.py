"""Adapters to the outside: parse provider webhooks into Inbound messages, render replies, send."""
