"""``python -m movierec_helpers.check NOTEBOOK``: check a notebook before handing it in.

See :mod:`movierec_helpers.exercises.selfcheck`.
"""

import sys

from movierec_helpers.exercises.selfcheck import main

if __name__ == "__main__":
    sys.exit(main())
