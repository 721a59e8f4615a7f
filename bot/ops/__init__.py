"""Running the bot unattended: the operations HTTP server (health, readiness, metrics), JSON logs, backups."""
