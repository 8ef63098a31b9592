"""The checks: one pytest module per exercise, each tagged with its exercise and points."""
