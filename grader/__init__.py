"""mllab's grading engine: pytest plugin, submission sandbox, comparisons and reports.

Importing this package is cheap: torch is imported only by the modules that need it.
"""
