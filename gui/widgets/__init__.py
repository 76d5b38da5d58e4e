"""One panel per module; each is a thin widget over engine snapshots."""
