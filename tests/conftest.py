"""Shared test settings. Each area keeps its fixtures in its own folder's conftest.py."""
