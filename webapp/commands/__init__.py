"""Command-line groups; each is thin over a service."""
