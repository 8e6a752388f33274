"""Needs: report one, and see them all on the needs map."""
