"""The platform-neutral core: one conversation maps to one interview."""
