"""mirrorctl: point Python's package tools at the right index mirror."""

__version__ = "0.1.0"
