"""Notification rules and their delivery: windows, recipients, digests, the outbox and channels."""
