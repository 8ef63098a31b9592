"""Batch grading of a class: submissions in, per-student results and a gradebook out."""
