#!/usr/bin/env python3
"""Checks a couchestor OCI image archive (issue 19 part 1).

    check_image.py ARCHIVE [--digest-of OTHER_ARCHIVE]
    check_image.py --build-from-host BINARY

The first form checks an archive made by `make image` (scripts/image.sh); with --digest-of it also checks that a
second build gave the same manifest digest. The second form is the CTest test `image.oci`: it builds two images
from this machine's own Debian root with scripts/image.py (no download: the same packages mmdebstrap would
fetch, as installed here), requires the same digest from both, and checks one.

The checks:
- the layout: oci-layout version; index.json; every descriptor's blob exists with that size and sha256;
  the mediaTypes of index, manifest, config and the gzip layer; the config's diff_id is the sha256 of the
  uncompressed layer;
- the config: linux, a non-root numeric User, Entrypoint /usr/local/bin/couchestor, Cmd [operator];
- the root: no shell or package manager, no setuid file, the user in /etc/passwd, every mtime the image's
  creation time, the CA bundle;
- inside the root, with the root mounted read-only and as the image's user (unshare -m + chroot --userspec; as
  a mapped root with `unshare -r chroot` where that is all there is): `couchestor --version`,
  `couchestor operator --help`, `nvme version`, `smartctl --version`;
- skopeo, where installed, reads the archive and reports the same digest.
Prints the image's size."""
import argparse
import calendar
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("CS_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
OCI = "application/vnd.oci.image."
SHELLS = ["bin/sh", "bin/bash", "bin/dash", "usr/bin/sh", "usr/bin/bash", "usr/bin/dash", "usr/bin/busybox",
          "usr/bin/dpkg", "usr/bin/apt", "usr/bin/apt-get", "usr/bin/perl"]

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")
    return cond


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob(layout, desc, media_type):
    path = os.path.join(layout, "blobs", "sha256", desc["digest"].split(":", 1)[1])
    if not check(os.path.isfile(path), f"blob {desc['digest']} exists"):
        sys.exit(1)
    with open(path, "rb") as f:
        data = f.read()
    check(desc.get("mediaType") == media_type, f"mediaType of {desc['digest'][:19]} is {media_type}")
    check(len(data) == desc["size"], f"blob {desc['digest'][:19]}: size {len(data)} == descriptor {desc['size']}")
    check(sha(data) == desc["digest"], f"blob {desc['digest'][:19]}: sha256 matches")
    return data


def run_inside(root, user, argv):
    """Runs argv in root: read-only and as user where a mount namespace is allowed."""
    ro = ("mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" && "
          f"exec chroot --userspec={user} \"$0\" \"$@\"")
    attempts = [(["unshare", "-m", "sh", "-c", ro, root] + argv, f"read-only root, user {user}")]
    if os.geteuid() != 0:
        attempts.append((["unshare", "-r", "chroot", root] + argv, "mapped root (unshare -r), writable"))
    last = None
    for cmd, how in attempts:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if p.returncode == 0 or "couchestor" in p.stdout or "nvme" in p.stdout or "smartctl" in p.stdout:
            return p, how
        last = (p, how)
    return last


def check_archive(archive):
    work = tempfile.mkdtemp(prefix="cs-image-check.")
    try:
        layout = os.path.join(work, "oci")
        with tarfile.open(archive) as t:
            t.extractall(layout, filter="data")
        with open(os.path.join(layout, "oci-layout")) as f:
            check(json.load(f).get("imageLayoutVersion") == "1.0.0", "oci-layout imageLayoutVersion 1.0.0")
        with open(os.path.join(layout, "index.json")) as f:
            index = json.load(f)
        check(index.get("schemaVersion") == 2 and index.get("mediaType") == OCI + "index.v1+json", "index.json")
        check(len(index.get("manifests", [])) == 1, "index.json names one manifest")
        mdesc = index["manifests"][0]
        manifest = json.loads(blob(layout, mdesc, OCI + "manifest.v1+json"))
        check(manifest.get("schemaVersion") == 2 and manifest.get("mediaType") == OCI + "manifest.v1+json",
              "manifest schemaVersion 2")
        config = json.loads(blob(layout, manifest["config"], OCI + "config.v1+json"))
        check(len(manifest.get("layers", [])) == 1, "one layer")
        layer_gz = blob(layout, manifest["layers"][0], OCI + "layer.v1.tar+gzip")
        layer = gzip.decompress(layer_gz)
        check(config.get("rootfs", {}).get("diff_ids") == [sha(layer)], "config diff_id = sha256 of the layer")
        check(config.get("os") == "linux" and config.get("architecture") in ("amd64", "arm64"), "os/architecture")
        cc = config.get("config", {})
        user = cc.get("User", "")
        uid = user.split(":", 1)[0]
        check(uid.isdigit() and int(uid) != 0, f"config User {user!r} is a numeric non-root uid")
        check(cc.get("Entrypoint") == ["/usr/local/bin/couchestor"], "Entrypoint /usr/local/bin/couchestor")
        check(cc.get("Cmd") == ["operator"], "Cmd [operator]")
        created = calendar.timegm(time.strptime(config["created"], "%Y-%m-%dT%H:%M:%SZ"))

        root = os.path.join(work, "root")
        os.mkdir(root)
        with tarfile.open(fileobj=io.BytesIO(layer)) as t:
            members = t.getmembers()
            check([m.name for m in members] == sorted(m.name for m in members), "layer entries in path order")
            check(all(m.mtime == created for m in members), "every mtime is the creation time (SOURCE_DATE_EPOCH)")
            check(not any(m.mode & 0o6000 for m in members), "no setuid/setgid file")
            check(all(m.uid in (0, int(uid)) for m in members), "owners are root or the image user")
            t.extractall(root, filter="fully_trusted")
        for s in SHELLS:
            check(not os.path.lexists(os.path.join(root, s)), f"no /{s} in the image")
        with open(os.path.join(root, "etc", "passwd")) as f:
            check(any(ln.split(":")[2] == uid for ln in f if ln.count(":") >= 6), f"uid {uid} in /etc/passwd")
        check(os.path.getsize(os.path.join(root, "etc/ssl/certs/ca-certificates.crt")) > 100000, "the CA bundle")
        check(os.path.isdir(os.path.join(root, "var/lib/dpkg/status.d")), "dpkg status.d (for image scanners)")

        runs = [(["/usr/local/bin/couchestor", "--version"], "couchestor "),
                (["/usr/local/bin/couchestor", "operator", "--help"], "Usage: couchestor operator"),
                (["/usr/sbin/nvme", "version"], "nvme version"),
                (["/usr/sbin/smartctl", "--version"], "smartctl ")]
        for argv, want in runs:
            p, how = run_inside(root, user, argv)
            ok = p.returncode == 0 and want in p.stdout
            check(ok, f"`{' '.join(argv)}` in the image ({how}): exit {p.returncode}, "
                      f"stdout {p.stdout[:200]!r}, stderr {p.stderr[:300]!r}")
            if ok:
                print(f"ok: `{' '.join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv))}` "
                      f"in the image ({how}): {p.stdout.splitlines()[0]}")
        if shutil.which("skopeo"):
            p = subprocess.run(["skopeo", "inspect", f"oci-archive:{archive}"], capture_output=True, text=True,
                               timeout=120)
            check(p.returncode == 0 and json.loads(p.stdout or "{}").get("Digest") == mdesc["digest"],
                  f"skopeo inspect reads the archive and finds {mdesc['digest']}: {p.stderr[:300]}")
        else:
            print("note: skopeo not installed: the archive was not read by skopeo")
        print(f"image {mdesc['digest']}: {len(members)} entries, layer {len(layer) / 1048576:.1f} MiB, "
              f"compressed {len(layer_gz) / 1048576:.1f} MiB, archive {os.path.getsize(archive) / 1048576:.1f} MiB")
        return mdesc["digest"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def digest_of(archive):
    with tarfile.open(archive) as t:
        return json.load(t.extractfile("index.json"))["manifests"][0]["digest"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("archive", nargs="?")
    ap.add_argument("--digest-of", help="a second build's archive: must have the same digest")
    ap.add_argument("--build-from-host", metavar="BINARY")
    args = ap.parse_args()
    if args.build_from_host:
        work = tempfile.mkdtemp(prefix="cs-image-host.")
        try:
            archives = []
            for n in (1, 2):
                out = os.path.join(work, str(n))
                subprocess.run([sys.executable, os.path.join(REPO, "scripts", "image.py"),
                                "--binary", args.build_from_host, "--source-root", "/",
                                "--dpkg-admin", "/var/lib/dpkg", "--out", out, "--epoch", "1700000000",
                                "--version", "0.0.0-test", "--created-by", "check_image.py (host root)"],
                               check=True, timeout=300)
                archives.append(os.path.join(out, "couchestor-0.0.0-test.oci.tar"))
            d1 = check_archive(archives[0])
            d2 = digest_of(archives[1])
            check(d1 == d2, f"two builds give the same digest: {d1} and {d2}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    elif args.archive:
        d1 = check_archive(args.archive)
        if args.digest_of:
            d2 = digest_of(args.digest_of)
            check(d1 == d2, f"two builds give the same digest: {d1} and {d2}")
            if d1 == d2:
                print(f"reproducible: both builds are {d1}")
    else:
        ap.error("an archive or --build-from-host BINARY")
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("image checks passed")


if __name__ == "__main__":
    main()
