"""Grading a class: one class run, run by the local worker pool or a Dask cluster.

- ``class_run``: who is graded, the preparation and the report's tail, merging each student once;
- ``autograde``: the local backend (worker processes, kernel probe, failures graded alone);
- ``cluster`` and ``cluster_worker``: the Dask backend (client and worker sides);
- ``submissions``: checks and repairs of every submission before grading;
- ``late_policy``: due dates, the late policy, extensions (nbgrader's late-penalty plugin);
- ``output_limits``: outputs cut to bytes while grading (an nbgrader preprocessor);
- ``nbgrader_runner``: the one place nbgrader runs;
- ``results``: the report, the grades table and the students' feedback;
- ``feedback_filters``: plain words for stopped cells, no hidden code in tracebacks;
- ``feedback_page``: the feedback page's accessible template (``templates/movierec_feedback``) and filters.
"""
