"""Runs a command and prints its peak resident set size in KiB (wait4's ru_maxrss), then its
exit code; the command's own output goes to stderr. Usage: peak_rss.py CMD [ARGS...]"""
import os
import subprocess
import sys

proc = subprocess.Popen(sys.argv[1:], stdout=sys.stderr)
_, status, usage = os.wait4(proc.pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
