"""Data and the operations on it: everything here works without a bot."""
