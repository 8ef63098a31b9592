"""mllab: a terminal lab for learning machine learning by implementing it."""

__version__ = "0.1.0"
