"""A one-line progress bar on stderr: no dependency, redrawn in place on a terminal."""

import sys
import time


class Progress:
    """Advance a bar by units of work (rows to write) with `step(label, units)`."""

    def __init__(self, title: str, total: int, width: int = 30):
        self.title, self.total, self.width = title, max(total, 1), width
        self.done = 0
        self.started = time.perf_counter()
        self.tty = sys.stderr.isatty()

    def step(self, label: str, units: int = 0) -> None:
        self.done = min(self.done + units, self.total)
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        line = (f"{self.title} [{bar}] {100 * self.done // self.total:3d}% "
                f"{time.perf_counter() - self.started:6.1f}s  {label}")
        if self.tty:
            sys.stderr.write(f"\r\033[K{line}")
            if self.done == self.total:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
