#!/usr/bin/env python3
"""Integration tests of `couchestor discover` (the real binary).

Usage: cli_discover.py CASE. Needs CS_BINARY and CS_SOURCE_DIR (set by CTest).
Cases use the fixture machines and fake tools of tests/fixtures/hw, except
`real_machine`, which runs against this machine's own /sys, /proc and /dev.
"""
import json
import os
import subprocess
import sys

import yaml

BIN = os.environ["CS_BINARY"]
FIX = os.path.join(os.environ["CS_SOURCE_DIR"], "tests", "fixtures", "hw")


def run(*args, env=None, fixture="server"):
    cmd = [BIN, "discover"]
    if fixture:
        cmd += ["--sysfs-root", f"{FIX}/{fixture}/sys", "--proc-root", f"{FIX}/{fixture}/proc",
                "--dev-root", f"{FIX}/{fixture}/dev", "--nvme", f"{FIX}/bin/nvme",
                "--smartctl", f"{FIX}/bin/smartctl"]
    cmd += list(args)
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("FAKE_") or k.startswith("COUCHESTOR_"):
            del e[k]
    e.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=120)
    return p.returncode, p.stdout, p.stderr


def check(cond, msg):
    if not cond:
        print("FAIL:", msg)
        sys.exit(1)


def real_machine():
    """On this machine: --json succeeds and lists exactly its real disks."""
    rc, out, err = run("--json", fixture=None)
    check(rc == 0, f"exit {rc}: {err}")
    doc = json.loads(out)
    got = sorted(d["name"] for d in doc["devices"])
    want = []
    for name in os.listdir("/sys/class/block"):
        base = f"/sys/class/block/{name}"
        if os.path.exists(f"{base}/partition"):
            continue
        if name.startswith(("loop", "ram", "zram", "dm-")):
            continue
        try:
            if open(f"{base}/hidden").read().strip() == "1":
                continue
        except OSError:
            pass
        want.append(name)
    want.sort()
    check(got == want, f"devices {got} != sysfs {want}")
    check(len(got) > 0, "this machine has at least one disk")
    for d in doc["devices"]:
        size = int(open(f"/sys/class/block/{d['name']}/size").read()) * 512
        check(d["size_bytes"] == size, f"{d['name']}: size {d['size_bytes']} != {size}")
        check(d["status"] in ("available", "in-use", "unverified", "excluded"), d["status"])
    # The root filesystem's disk is never offered for a pool.
    root_dev = os.stat("/").st_dev
    maj, mnr = os.major(root_dev), os.minor(root_dev)
    for d in doc["devices"]:
        if d["devnum"] == f"{maj}:{mnr}":
            check(d["status"] == "in-use" and not d["poolable"], f"root disk {d['name']} offered: {d}")
            check(any("mounted at / " in r for r in d["in_use_reasons"]), d["in_use_reasons"])
    # Missing tools degrade with a warning naming the tool (and are never fatal).
    for tool, path in (("smartctl", "/usr/sbin/smartctl"), ("nvme-cli", "/usr/sbin/nvme")):
        if not os.access(path, os.X_OK) and any(
                (d["media_type"] == "nvme") == (tool == "nvme-cli") for d in doc["devices"]):
            check(any(w.startswith(f"{tool} not found at {path}") for w in doc["warnings"]),
                  f"no warning for missing {tool}: {doc['warnings']}")
            check(f"warning: {tool} not found" in err, f"warning not on stderr: {err}")
    # The table works too.
    rc, out, err = run(fixture=None)
    check(rc == 0 and out.startswith("DEVICE"), f"table: exit {rc}: {out}{err}")
    print(out, end="")


def table():
    rc, out, err = run()
    check(rc == 0, f"exit {rc}: {err}")
    check(err == "", f"no warnings expected: {err}")
    lines = out.splitlines()
    check(lines[0].split() == ["DEVICE", "SIZE", "MEDIA", "TRANSPORT", "MODEL", "SERIAL", "HEALTH",
                               "TIER", "STATUS"], lines[0])
    rows = {l.split()[0]: l for l in lines[1:9]}
    check(sorted(rows) == ["nvme0n1", "nvme1n1", "sda", "sdb", "sdc", "sdd", "sde", "sdf"], rows)
    check(" hot   available" in rows["nvme0n1"], rows["nvme0n1"])
    check("in-use: has partitions" in rows["sda"], rows["sda"])
    check("excluded: SMART overall-health self-assessment FAILED" in rows["sdf"], rows["sdf"])
    check(lines[-1] == "4 of 8 devices can hold a pool (hot 1, warm 1, cold 2).", lines[-1])


def diskpools():
    """--diskpools output is valid for the DiskPool CRD (openebs.io/v1beta2)."""
    rc, out, err = run("--diskpools", "--node", "worker-1", "--namespace", "openebs",
                       "--include-in-use", "--tier-override", "sdc=warm")
    check(rc == 0, f"exit {rc}: {err}")
    docs = [d for d in yaml.safe_load_all(out) if d is not None]
    check(len(docs) == 4, f"{len(docs)} manifests")
    names = set()
    for d in docs:
        check(set(d) == {"apiVersion", "kind", "metadata", "spec"}, d)
        check(d["apiVersion"] == "openebs.io/v1beta2" and d["kind"] == "DiskPool", d)
        md, spec = d["metadata"], d["spec"]
        check(md["namespace"] == "openebs", md)
        check(isinstance(md["name"], str) and len(md["name"]) <= 63, md)
        check(all(c.islower() or c.isdigit() or c == "-" for c in md["name"]), md["name"])
        names.add(md["name"])
        check(set(spec) == {"node", "disks", "topology"}, spec)
        check(spec["node"] == "worker-1", spec)
        check(isinstance(spec["disks"], list) and len(spec["disks"]) == 1, spec)
        check(all(isinstance(x, str) and x.startswith("/dev/") for x in spec["disks"]), spec)
        labels = md["labels"]
        check(set(labels) == {"storage-tier", "media-type"}, labels)
        check(labels["storage-tier"] in ("hot", "warm", "cold"), labels)
        check(labels["media-type"] in ("nvme", "ssd", "hdd"), labels)
        # Mayastor copies spec.topology.labelled to its pool: the tier labels,
        # plus the placement label the operator steers new replicas with.
        check(spec["topology"] == {"labelled": dict(labels, **{"couchestor.io/placement": "eligible"})},
              spec["topology"])
    check(len(names) == 4, "pool names are unique")
    by_disk = {d["spec"]["disks"][0]: d["metadata"]["labels"]["storage-tier"] for d in docs}
    check(by_disk == {
        "/dev/disk/by-id/nvme-SAMSUNG_MZQL23T8HCLS-00A07_S64HNE0T512345": "hot",
        "/dev/disk/by-id/ata-Micron_5300_MTFDDAK1T9TDS_2119300ABCDE": "warm",
        "/dev/disk/by-id/ata-ST16000NM001G-2KK103_ZL2ABCDE": "warm",
        "/dev/disk/by-id/wwn-0x5000cca2a1b2c3d4": "cold"}, by_disk)
    check("refusing sda: in-use: has partitions" in err, err)
    check("refusing sde: in-use" in err, err)


def json_output():
    rc, out, err = run("--json", "--tool-timeout", "200ms", env={"FAKE_SMARTCTL_MODE": "hang"})
    check(rc == 0, f"exit {rc}: {err}")
    doc = json.loads(out)
    check(any("timed out after 200ms" in w and "sdb" in w for w in doc["warnings"]), doc["warnings"])
    check("warning: smartctl on " in err, err)
    sdb = [d for d in doc["devices"] if d["name"] == "sdb"][0]
    check(sdb["health"]["state"] == "unknown", sdb)


def usage():
    cases = [
        (["--json", "--diskpools", "--node", "n"], "--json and --diskpools cannot be combined"),
        (["--diskpools"], "--diskpools needs --node NAME"),
        (["--node", "n"], "--node is only used with --diskpools"),
        (["--diskpools", "--node", "Bad_Node"], "--node 'Bad_Node' is not a valid Kubernetes node name"),
        (["--diskpools", "--node", "n", "--namespace", "a.b"], "--namespace 'a.b' is not a valid namespace"),
        (["--tool-timeout", "10"], "--tool-timeout: "),
        (["--tool-timeout", "2h"], "--tool-timeout '2h' must be between 1ms and 1h"),
        (["--tier-override", "sdb=tepid"], "tier override 'sdb=tepid': unknown tier 'tepid'"),
        (["--tier-override", "sdb"], "tier override 'sdb' must be PATTERN=TIER"),
        (["--media-error-threshold", "-1"], "--media-error-threshold '-1' must be a whole number"),
        (["--bogus"], "unknown option '--bogus'"),
        (["--node"], "option '--node' needs a value"),
        (["extra"], "unexpected argument 'extra'"),
    ]
    for args, msg in cases:
        rc, out, err = run(*args)
        check(rc == 2, f"{args}: exit {rc}, want 2: {err}")
        check(err.startswith("couchestor discover: " + msg), f"{args}: {err!r}")
        check("Try 'couchestor discover --help'." in err, err)
        check(out == "", f"{args}: nothing on stdout: {out!r}")
    rc, out, err = run("--help", fixture=None)
    check(rc == 0 and out.startswith("Usage: couchestor discover"), out)
    for flag in ["--json", "--diskpools", "--node", "--namespace", "--include-in-use", "--sysfs-root",
                 "--proc-root", "--dev-root", "--nvme", "--smartctl", "--tool-timeout",
                 "--tier-override", "--media-error-threshold", "--all"]:
        check(flag in out, f"--help does not mention {flag}")


def no_pool():
    rc, out, err = run("--diskpools", "--node", "n", fixture="empty")
    check(rc == 1, f"exit {rc}")
    check(out == "", out)
    check("no disk on this node can hold a pool" in err, err)
    rc, out, err = run(fixture="empty")
    check(rc == 0 and "0 of 0 devices can hold a pool" in out, out)
    # Environment fallbacks for the paths.
    env = {"COUCHESTOR_SYSFS_ROOT": "/nonexistent"}
    rc, out, err = run(fixture=None, env=env)
    check(rc == 1 and "cannot list block devices in /nonexistent/class/block" in err, err)


if __name__ == "__main__":
    {"real_machine": real_machine, "table": table, "diskpools": diskpools, "json": json_output,
     "usage": usage, "no_pool": no_pool}[sys.argv[1]]()
