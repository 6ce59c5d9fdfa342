"""python -m devdiag_warehouse.sync: the same as devdiag-sync."""

import sys

from .cli import main

sys.exit(main())
