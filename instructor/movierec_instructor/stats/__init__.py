"""What grading says about each check: item analysis read back from the graded notebooks.

- ``item_analysis``: per-check results, pass rates, discrimination, flags;
- ``item_report``: ``movierec stats`` (CSV, JSON, HTML).
"""
