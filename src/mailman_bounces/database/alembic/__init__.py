"""The plugin's Alembic migrations (version table: bounces_alembic_version)."""
