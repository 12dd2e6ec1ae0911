"""Grading on a JupyterHub: students hand in from the lab and fetch their feedback seconds later.

- ``watch``: finds the hand-ins in nbgrader's exchange (untrusted folder names, owners checked);
- ``queue``: the durable journal and the fair queue (latest hand-in only, round-robin by student);
- ``warm_pool``: sandboxed grading kernels started ahead with the course's imports, one per hand-in;
- ``job``: grades one hand-in with ``movierec autograde``'s own code, in a private copy of the course;
- ``worker``: long-lived processes that imported nbgrader once and run each job in a fork;
- ``release``: merges the result into the course gradebook and releases the feedback to the exchange;
- ``status_page``: each student's hand-ins in words, behind the hub's OAuth (instructors see all);
- ``service``: ``movierec grade-service``, the loop JupyterHub starts as a managed service.
"""
