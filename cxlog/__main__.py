import sys

from cxlog.cli import main

sys.exit(main())
