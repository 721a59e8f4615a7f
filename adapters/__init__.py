"""Adapters translate platform events to neutral events and render replies, questions and notices."""
