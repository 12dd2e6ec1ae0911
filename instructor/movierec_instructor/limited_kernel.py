"""An IPython kernel with resource limits, used to grade submissions.

nbgrader runs each submission in a kernel; a submission that allocates memory until the
machine swaps, or burns CPU forever, must fail alone. This launcher caps the kernel's
address space and CPU time (``MOVIEREC_KERNEL_MEMORY_GB``, default 16;
``MOVIEREC_KERNEL_CPU_SECONDS``, default 1800) and then starts ipykernel. Past the memory
cap an allocation raises ``MemoryError`` in the cell, which fails that cell only.
"""

import os
import resource
import sys


def apply_limits() -> None:
    memory = int(float(os.environ.get("MOVIEREC_KERNEL_MEMORY_GB", "16")) * 1024**3)
    cpu = int(os.environ.get("MOVIEREC_KERNEL_CPU_SECONDS", "1800"))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


if __name__ == "__main__":
    apply_limits()
    from ipykernel import kernelapp

    sys.argv[0] = "ipykernel_launcher"
    kernelapp.launch_new_instance()
