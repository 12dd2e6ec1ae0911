"""What keeps grading honest: the sandboxed grading kernel, untrusted input made safe, integrity reports.

- ``sandbox``: the bubblewrap sandbox of every grading kernel;
- ``limited_kernel``: the grading kernel's launcher (limits, then the sandbox);
- ``kernels``: registers the ``movierec-grading`` kernel;
- ``untrusted``: ids, paths, CSV, HTML and archives from students made safe;
- ``report_page``: the one shell of the HTML reports (similarity, stats, test strength): accessible
  (WCAG 2.1 AA) and under the Content-Security-Policy;
- ``tamper_scan``: notebooks that reach for the grader;
- ``similarity``: a MOSS-style similarity report between submissions.
"""
