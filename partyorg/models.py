"""Models of the partyorg app (filled by its issue)."""
