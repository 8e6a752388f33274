"""Initiatives: propose, moderate, browse, report."""
