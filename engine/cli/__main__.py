"""``python -m engine.cli``: the ``rackrisk`` command."""

import sys

from engine.cli import main

sys.exit(main())
