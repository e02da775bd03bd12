"""The local advisory database: schema, OSV importers, and updates from sources."""
