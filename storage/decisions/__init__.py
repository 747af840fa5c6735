"""Decisions by selection: Dinsos approves or rejects everything a set of filters selects in a round."""
