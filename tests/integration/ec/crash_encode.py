#!/usr/bin/env python3
"""Crash test: SIGKILL `couchestor ec encode` at random points while it
overwrites an object, and check after every kill that the object decodes to
exactly the old content or exactly the new one (never a mix, never an
error), and that repair then leaves a clean, single-generation object.

Seeded: CS_TEST_SEED reproduces a run; CS_CRASH_ITERATIONS sets the number
of kill points (default 12)."""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("CS_BINARY") or sys.argv[1]
seed = int(os.environ.get("CS_TEST_SEED", str(int(time.time() * 1000) % 1000000007)))
iters = int(os.environ.get("CS_CRASH_ITERATIONS", "12"))
print(f"crash_encode: seed {seed} (rerun with CS_TEST_SEED={seed}), {iters} kill points")
rng = random.Random(seed)

root = tempfile.mkdtemp(prefix="cs-ec-crash-")
try:
    dirs = [os.path.join(root, f"disk{i}") for i in range(7)]
    for d in dirs:
        os.mkdir(d)
    dirarg = ",".join(dirs)
    versions = []
    for i in range(2):
        p = os.path.join(root, f"v{i}")
        with open(p, "wb") as f:
            f.write(rng.randbytes(6 * 1024 * 1024 + rng.randrange(100000)))
        versions.append(p)
    contents = [open(p, "rb").read() for p in versions]

    def encode(src):
        return [BIN, "ec", "encode", "-k", "4", "-m", "2", "--stripe-size", "64Ki",
                "--name", "obj", "--dirs", dirarg, src]

    def decode():
        out = os.path.join(root, "out")
        r = subprocess.run([BIN, "ec", "decode", "--dirs", dirarg, "obj", "-o", out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"FAIL: decode after kill exited {r.returncode}: {r.stderr}")
        data = open(out, "rb").read()
        os.unlink(out)
        return data

    t0 = time.monotonic()
    subprocess.run(encode(versions[0]), check=True, capture_output=True)
    full = time.monotonic() - t0
    current = 0
    outcomes = {"old": 0, "new": 0}
    for it in range(iters):
        target = 1 - current
        # half anywhere, half near the end where the renames commit
        delay = rng.uniform(0, full * 1.1) if it % 2 else rng.uniform(full * 0.6, full * 1.2)
        p = subprocess.Popen(encode(versions[target]), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        data = decode()
        if data == contents[current]:
            outcomes["old"] += 1
        elif data == contents[target]:
            outcomes["new"] += 1
            current = target
        else:
            raise SystemExit(f"FAIL: iteration {it} (delay {delay:.4f}s): decoded bytes are "
                             f"neither the old nor the new object (seed {seed})")
        if it % 3 == 2:
            r = subprocess.run([BIN, "ec", "repair", "--dirs", dirarg, "obj"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit(f"FAIL: repair after kill: {r.stdout}{r.stderr}")
            r = subprocess.run([BIN, "ec", "verify", "--dirs", dirarg, "--json"],
                               capture_output=True, text=True)
            if r.returncode != 0 or '"stale_files":0' not in r.stdout:
                raise SystemExit(f"FAIL: verify after repair: {r.stdout}{r.stderr}")
            if decode() != contents[current]:
                raise SystemExit("FAIL: repair changed the object")
    print(f"crash_encode: ok: {outcomes['old']} kills left the old object, "
          f"{outcomes['new']} the new one (full encode {full:.3f}s)")
finally:
    shutil.rmtree(root, ignore_errors=True)
