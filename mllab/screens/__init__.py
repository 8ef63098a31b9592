"""Screens of the lab, one per file."""
