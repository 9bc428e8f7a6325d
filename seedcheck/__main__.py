"""`python -m seedcheck` is the same as the `seedcheck` command."""

from seedcheck.cli import main

main()
