"""Steering-committee governance: motions, votes, proxies, recusal, tallies and their effects."""
