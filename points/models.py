"""Models of the points app (filled by its issue)."""
