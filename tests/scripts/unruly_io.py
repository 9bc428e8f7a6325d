"""Everything a script may do to its process's I/O: read stdin, change directory, print
megabytes, print bytes that are not UTF-8. Then it seeds and draws like any script."""
import os
import random
import sys
import tempfile

data = sys.stdin.read()  # seedcheck closes stdin: EOF at once, never a hang
os.chdir(tempfile.gettempdir())
sys.stdout.write(("x" * 1023 + "\n") * 3 * 1024)  # 3 MB
sys.stdout.flush()
sys.stdout.buffer.write(b"not utf-8: \xff\xfe\n")
sys.stderr.buffer.write(b"also not utf-8: \xc3\x28\n")
random.seed(int(os.environ.get("SEEDCHECK_SEED", "1")))
print(f"stdin had {len(data)} bytes; draw {random.random()}")
