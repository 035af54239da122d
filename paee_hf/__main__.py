"""``python -m paee_hf``: the ``paee`` command line."""

import sys

from .cli import main

sys.exit(main())
