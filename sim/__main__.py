"""``python -m sim`` is the ``sanshe`` command line."""

import sys

from sim.cli import main

sys.exit(main())
