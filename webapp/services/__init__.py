"""The domain: plain functions over a SQLAlchemy session, tested without HTTP."""
