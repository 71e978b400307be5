"""`python -m studyapp` and the frozen build's entry point: the same as the `studyapp` command."""
import sys

from studyapp.cli import main

if __name__ == "__main__":
    if getattr(sys, "frozen", False):   # a no-op elsewhere; importing multiprocessing costs start-up
        # The PPO tab trains in a child process; a frozen build must let that child start here.
        import multiprocessing
        multiprocessing.freeze_support()
    sys.exit(main())
