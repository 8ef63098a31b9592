"""Widgets the screens of the lab are built from."""
