"""`python -m cxlog …`: the command line (cxlog/cli.py)."""

import sys

from cxlog.cli import main

sys.exit(main())
