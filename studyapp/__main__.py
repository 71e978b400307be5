"""`python -m studyapp` and the frozen build's entry point: the same as the `studyapp` command."""
import multiprocessing
import sys

from studyapp.cli import main

if __name__ == "__main__":
    # The PPO tab trains in a child process; a frozen build must let that child start here.
    multiprocessing.freeze_support()
    sys.exit(main())
