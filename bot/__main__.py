"""`python -m bot`: the same as `vpn-doctor serve`."""

import sys

from bot.runner import run_serve

sys.exit(run_serve())
