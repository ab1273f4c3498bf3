"""`python -m smgrpc ...`: the same entry point as the `smgrpc` command."""

import sys

from smgrpc.cli.main import main

sys.exit(main())
