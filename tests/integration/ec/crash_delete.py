#!/usr/bin/env python3
"""Crash test: SIGKILL `couchestor ec delete` of several objects at random
points and check after every kill that each object is either whole (decodes
to exactly its content) or gone (decode says not found, list omits it) -
never damaged, never an error - and that `repair` (no names) then removes
every leftover, so that the directories hold exactly the surviving objects.

Seeded: CS_TEST_SEED reproduces a run; CS_CRASH_ITERATIONS sets the number
of kill points (default 12)."""
import json
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
print(f"crash_delete: seed {seed} (rerun with CS_TEST_SEED={seed}), {iters} kill points")
rng = random.Random(seed)
NOBJ = 4

root = tempfile.mkdtemp(prefix="cs-ec-crash-delete-")
try:
    dirs = [os.path.join(root, f"disk{i}") for i in range(7)]
    for d in dirs:
        os.mkdir(d)
    dirarg = ",".join(dirs)
    src = os.path.join(root, "src")
    names = [f"obj{i}" for i in range(NOBJ)]

    def run(*args):
        return subprocess.run([BIN, "ec", *args], capture_output=True)

    def put_all():
        contents = {}
        for n in names:
            data = rng.randbytes(200000 + rng.randrange(100000))
            with open(src, "wb") as f:
                f.write(data)
            r = run("encode", "-k", "4", "-m", "2", "--stripe-size", "64Ki", "--name", n,
                    "--dirs", dirarg, src)
            if r.returncode != 0:
                raise SystemExit(f"FAIL: encode {n}: {r.stderr.decode()}")
            contents[n] = data
        return contents

    def state(n, want):
        out = os.path.join(root, "out")
        r = run("decode", "--dirs", dirarg, n, "-o", out)
        if r.returncode == 0:
            data = open(out, "rb").read()
            os.unlink(out)
            if data != want:
                raise SystemExit(f"FAIL: {n} decodes to wrong bytes (seed {seed})")
            return "whole"
        if b"not found" not in r.stderr:
            raise SystemExit(f"FAIL: {n} is neither whole nor gone: {r.stderr.decode()} "
                             f"(seed {seed})")
        return "gone"

    def listed():
        r = run("info", "--dirs", dirarg, "--json")
        if r.returncode != 0:
            raise SystemExit(f"FAIL: info after kill: {r.stdout.decode()}{r.stderr.decode()}")
        return {o["name"] for o in json.loads(r.stdout)["objects"]}

    contents = put_all()
    t0 = time.monotonic()
    r = run("delete", "--dirs", dirarg, *names)
    full = time.monotonic() - t0
    if r.returncode != 0:
        raise SystemExit(f"FAIL: delete: {r.stdout.decode()}{r.stderr.decode()}")
    tally = {"whole": 0, "gone": 0}
    for it in range(iters):
        contents = put_all()
        delay = rng.uniform(0, full * 1.2)
        p = subprocess.Popen([BIN, "ec", "delete", "--dirs", dirarg, *names],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        seen = {n: state(n, contents[n]) for n in names}
        for v in seen.values():
            tally[v] += 1
        have = listed()
        for n in names:
            if (seen[n] == "whole") != (n in have):
                raise SystemExit(f"FAIL: iteration {it}: {n} is {seen[n]} but list says "
                                 f"{'present' if n in have else 'absent'} (seed {seed})")
        r = run("repair", "--dirs", dirarg)
        if r.returncode != 0:
            raise SystemExit(f"FAIL: repair after kill: {r.stdout.decode()}{r.stderr.decode()}")
        if listed() != {n for n in names if seen[n] == "whole"}:
            raise SystemExit(f"FAIL: repair changed the set of objects (seed {seed})")
        # only the surviving objects' directories remain, each with its 6 shards
        files = [f for d in dirs for _, _, fs in os.walk(d) for f in fs]
        if len(files) != 6 * sum(v == "whole" for v in seen.values()) or \
                any(not f.endswith(".shard") for f in files):
            raise SystemExit(f"FAIL: iteration {it}: leftovers after repair: {files} "
                             f"(seed {seed})")
        r = run("delete", "--dirs", dirarg, *names)
        if listed():
            raise SystemExit(f"FAIL: delete after repair left an object (seed {seed})")
    print(f"crash_delete: ok: after {iters} kills, {tally['whole']} objects were whole and "
          f"{tally['gone']} gone, none damaged (full delete of {NOBJ} objects {full:.3f}s)")
finally:
    shutil.rmtree(root, ignore_errors=True)
