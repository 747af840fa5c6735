"""Impact: seeded history, precomputed figures, reports (issue 11)."""
