"""Side-by-side benchmarks of amlmock: ratios against a floor, medians of repetitions (issue 5).

``python -m benchmarks`` prints the table (``--smoke`` for the fast mode, ``--repeat N``);
``run_smoke()`` is what the test suite calls. See docs/performance.md.
"""

from .measure import Figure, Settings, format_table
from .suite import BENCHMARKS, run_benchmarks, run_smoke

__all__ = ["BENCHMARKS", "Figure", "Settings", "format_table", "run_benchmarks", "run_smoke"]
