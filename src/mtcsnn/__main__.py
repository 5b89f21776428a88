"""``python -m mtcsnn`` runs the command line."""

import sys

from mtcsnn.cli import main

sys.exit(main())
