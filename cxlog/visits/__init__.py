"""Writing visits: one tap per moment (start, reason, outcome), corrections,
voids and undo, and the pad's batches of taps with the board it shows.

May import: every domain wing below it (the board shows the team line and follow-ups).
"""
