"""Exits with the code given as its first argument, after printing to stderr."""
import sys

print("about to exit", file=sys.stderr)
sys.exit(int(sys.argv[1]))
