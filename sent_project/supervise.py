"""Running a set of processes as one (`manage.py serve`, `manage.py serve_prod`)."""

import signal
import subprocess
import time


def supervise(processes: list[subprocess.Popen], *, grace_seconds: float) -> int:
    """Wait until SIGINT/SIGTERM or until any process exits, then stop the others (SIGTERM,
    then SIGKILL after `grace_seconds`). Returns the exit code of the process that ended
    first (0 when stopped by a signal)."""
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for process in processes:
            if process.poll() is not None:
                stopping = True
                exit_code = process.returncode or 0
        time.sleep(0.2)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code
