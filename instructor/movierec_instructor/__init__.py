"""movierec_instructor: the instructor's side of the movierec course.

Students never need it; ``make setup`` installs it for instructors and maintainers.

- grading a class: ``cli`` (the ``movierec`` command), ``class_run`` (one run for every
  backend), ``autograde`` (the local worker pool), ``cluster`` and ``cluster_worker`` (Dask),
  ``submissions``, ``late_policy``, ``output_limits``, ``nbgrader_runner``;
- the grading kernel and what it runs: ``kernels``, ``limited_kernel``, ``sandbox``,
  ``untrusted``, ``tamper_scan``;
- LMS: ``lms_presets`` (one registry), ``collect``, ``lms_export``;
- results: ``results`` (report, grades, feedback), ``feedback_filters``, ``item_analysis``,
  ``item_report``, ``similarity``;
- test strength: ``mutation``, ``student_mistakes``, ``strength``, ``strength_report``;
- the course: ``course`` (execute solutions, release), ``handout``.
"""
