"""Background work: one job API for the rest of the code (RQ with Redis, in-process when embedded)."""
