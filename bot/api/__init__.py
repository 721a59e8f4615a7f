"""The interview API: typed models, the async client and its shared request budget."""
