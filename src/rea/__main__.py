"""`python -m rea`: the rea command line."""

from rea.cli import main

main()
