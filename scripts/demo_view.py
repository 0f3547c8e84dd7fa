#!/usr/bin/env python3
"""Live view for `make demo`: every 2 s, what `couchestor plan --json` says
about each volume (IOPS, current tier, wanted tier, action), plus each
migration step from the operator's log as it happens; ends when every
volume has been on its wanted tier for 20 s (or at the timeout) and prints a
summary."""
import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.request


def plan(binary):
    r = subprocess.run([binary, "plan", "--json"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def policy_status():
    req = urllib.request.Request(os.environ["KUBE_URL"] + "/apis/storage.billyronks.io/v1/storagepolicies/demo",
                                 headers={"Authorization": "Bearer " + os.environ.get("KUBE_TOKEN", "")})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.load(resp).get("status", {})


def pvc_names():
    """PV name -> PVC name, for people."""
    req = urllib.request.Request(os.environ["KUBE_URL"] + "/api/v1/persistentvolumes",
                                 headers={"Authorization": "Bearer " + os.environ.get("KUBE_TOKEN", "")})
    with urllib.request.urlopen(req, timeout=10) as resp:
        items = json.load(resp).get("items", [])
    return {i["metadata"]["name"]: (i.get("spec", {}).get("claimRef") or {}).get("name", "") for i in items}


STEP = re.compile(r"reason=(Migration\w+)")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--operator-log", required=True)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--min-seconds", type=float, default=170,
                    help="run at least this long: the demo scenario steps one volume's load at 60 s "
                         "and ramps another over 120 s")
    a = ap.parse_args()
    tty = sys.stdout.isatty()
    start = time.monotonic()
    names = {}
    log_pos = 0
    settled_since = None
    last_table = None
    while True:
        elapsed = time.monotonic() - start
        if not names:
            try:
                names = pvc_names()
            except OSError:
                pass
        # migration steps, as they happen
        try:
            with open(a.operator_log, errors="replace") as f:
                f.seek(log_pos)
                for line in f:
                    m = STEP.search(line)
                    if m or " error" in line or "warn " in line:
                        msg = line.split(" ", 3)[3].split(" pv=")[0] if len(line.split(" ", 3)) > 3 else line
                        for pv, pvc in names.items():
                            msg = msg.replace(pv, pvc or pv)
                        print(f"  [{elapsed:5.0f}s] {msg.strip()}")
                log_pos = f.tell()
        except OSError:
            pass
        p = plan(a.binary)
        if p:
            rows = []
            keys = []
            settled = True
            for v in p["volumes"]:
                iops = "unknown" if v["iops"] is None else f"{v['iops']:.0f}"
                want = v["wantedTier"] if v["wantedTier"] != "unknown" else "(stays)"
                if v["reason"] not in ("InPlace", "InBand", "Hysteresis"):
                    settled = False
                rows.append(f"  {names.get(v['volume'], v['volume'])[:22]:22} {iops:>8} {v['currentTier']:8} "
                            f"{want:8} {v['action']:5} {v['reason']}")
                keys.append((v["volume"], v["currentTier"], want, v["action"], v["reason"]))
            table = "\n".join(rows)
            if keys != last_table:  # reprint when a decision changes, not on IOPS jitter
                print(f"\n  [{elapsed:5.0f}s] policy {p['policy']}: hot {p['hot']}, warm {p['warm']}, "
                      f"cold {p['cold']}")
                print(f"  {'VOLUME':22} {'IOPS':>8} {'CURRENT':8} {'WANTED':8} {'ACTION':5} WHY")
                print(table)
                last_table = keys
            settled_since = (settled_since or time.monotonic()) if settled else None
            if settled_since and time.monotonic() - settled_since >= 20 and elapsed >= a.min_seconds:
                break
        if elapsed > a.timeout:
            print(f"\n  timeout after {a.timeout:.0f}s: not every volume reached its tier")
            break
        sys.stdout.flush()
        time.sleep(2)
    st = {}
    try:
        st = policy_status()
    except OSError:
        pass
    hist = st.get("migrationHistory", [])
    ok = [h for h in hist if h.get("outcome") == "Succeeded"]
    print("\n== summary")
    print(f"  moves done: {len(ok)} succeeded, {st.get('failedMigrations', 0)} failed, "
          f"in {time.monotonic() - start:.0f}s")
    for h in ok:
        print(f"    {names.get(h['volumeName'], h['volumeName'])[:22]:22} {h['fromTier']:>5} -> {h['toTier']:5} "
              f"at {h['triggerIOPS']:.0f} IOPS, took {h['duration']}")
    print(f"  final tiers: hot {st.get('hotVolumes')}, warm {st.get('warmVolumes')}, cold {st.get('coldVolumes')} "
          f"of {st.get('watchedVolumes')} volumes")
    port = None
    with open(a.operator_log, errors="replace") as f:
        m = re.search(r"metrics_port=(\d+)", f.read())
        port = m.group(1) if m else None
    print(f"  where to look: metrics http://127.0.0.1:{port}/metrics (couchestor_migrations_total, "
          f"couchestor_volumes), `couchestor plan`, the StoragePolicy status (kubectl get sp demo -o yaml)")
    return 0 if settled_since else 1


if __name__ == "__main__":
    sys.exit(main())
