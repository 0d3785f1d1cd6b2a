"""`python -m dgm`: the same command line as the `dgm` script."""

import sys

from dgm.cli import main

sys.exit(main())
