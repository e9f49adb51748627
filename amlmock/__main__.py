"""``python -m amlmock`` is the ``amlmock`` command."""

import sys

from .cli import main

sys.exit(main())
