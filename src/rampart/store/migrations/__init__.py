"""Alembic migrations of the rampart server database (run through `rampart.store.engine.migrate`)."""
