"""`python -m bff.cli`: the `kard-bff` command line."""

from bff.cli import main

main()
