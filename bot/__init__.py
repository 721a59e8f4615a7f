"""interview-bridge: AI-moderated interviews in Discord and Slack DMs."""

__version__ = "0.1.0"
