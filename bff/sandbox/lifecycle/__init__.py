"""Kard's reward lifecycle in the simulator: incoming transactions matched against the user's
offers, the earned rewards they produce and the states those move through on the simulated
clock, and the notifications each step sends."""
