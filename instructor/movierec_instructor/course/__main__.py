"""``python -m movierec_instructor.course execute|release|time``."""

from movierec_instructor.course.maintenance import main

main()
