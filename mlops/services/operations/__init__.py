"""Keeping model files safe: backups, restore, rollback, cleanup, integrity, self-heal."""
