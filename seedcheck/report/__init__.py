"""Reporters: each renders one `Comparison`, never reads traces itself."""
