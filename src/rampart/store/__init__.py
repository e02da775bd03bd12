"""The server's database: SQLAlchemy models, migrations, engine setup and small repository functions.

One set of models serves SQLite (the single-machine default) and PostgreSQL (several replicas).
"""
