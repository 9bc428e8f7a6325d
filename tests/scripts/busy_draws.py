"""Shuffles in a hot loop: seedcheck must cap what it records per call site."""
import random

random.seed(3)
deck = list(range(52))
for _ in range(20):
    random.shuffle(deck)
print(deck[:5])
