"""Modal dialogs of the lab."""
