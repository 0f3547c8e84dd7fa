#!/usr/bin/env python3
"""Assembles the couchestor OCI image from a Debian root, without a container engine (issue 19 part 1).

    image.py --binary BUILD/couchestor --source-root DIR --dpkg-admin DIR --out DIR [--epoch N] [--version V]

The image holds exactly what the binary and the tools `couchestor discover` runs need, taken from a Debian root
(`--source-root`: the one scripts/image.sh makes with mmdebstrap, or `/` for the fast test image):

- /usr/local/bin/couchestor, /usr/sbin/nvme, /usr/sbin/smartctl (and smartctl's drive database), and every
  shared library they link, found by their DT_NEEDED entries (readelf) in the root's library directories, with
  the symlinks that lead to them, laid out merged-/usr (/sbin, /lib, /lib64 are symlinks into /usr);
- /usr/share/doc/PKG/copyright and /var/lib/dpkg/status.d/PKG for each Debian package a file came from (what
  image scanners read), from the dpkg admin directory `--dpkg-admin` (info/*.list, status);
- /etc/ssl/certs/ca-certificates.crt (the Mozilla bundle of ca-certificates, concatenated in name order, what
  update-ca-certificates would write), /etc/passwd, /etc/group (root, and nonroot = 65532), /etc/nsswitch.conf,
  /tmp, /home/nonroot. No shell, no package manager.

The layer is one tar, entries in path order, every mtime SOURCE_DATE_EPOCH, owners numeric, gzip without name or
time: the same inputs give the same bytes, so the same digest. Written as an OCI image layout (OUT/oci: oci-layout,
index.json, blobs/sha256/{manifest,config,layer}) and as an archive of it (OUT/couchestor-VERSION.oci.tar, for
`skopeo copy oci-archive:...` or `ctr images import`). Prints the digest and sizes."""
import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import stat
import subprocess
import sys
import tarfile
import time

TOOLS = ["/usr/sbin/nvme", "/usr/sbin/smartctl"]
# data files the tools read when present (smartctl's drive database: attribute names and known firmware bugs)
DATA = ["/usr/share/smartmontools/drivedb.h"]
BINARY_PATH = "/usr/local/bin/couchestor"
USER = 65532
IMAGE_NAME = "docker.io/couchestor/couchestor"
MERGED = {"/bin": "/usr/bin", "/sbin": "/usr/sbin", "/lib": "/usr/lib", "/lib64": "/usr/lib64"}
ARCH = {"x86_64": ("amd64", "x86_64-linux-gnu"), "aarch64": ("arm64", "aarch64-linux-gnu")}


def die(msg):
    print(f"image: {msg}", file=sys.stderr)
    sys.exit(1)


def merged(path):
    """The path in the merged-/usr image of a path as a package installs it."""
    for top, usr in MERGED.items():
        if path == top or path.startswith(top + "/"):
            return usr + path[len(top):]
    return path


class Root:
    """Files read from the source root; paths are absolute inside it."""

    def __init__(self, root):
        self.root = os.path.abspath(root)

    def host(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def lexists(self, path):
        return os.path.lexists(self.host(path))

    def chain(self, path):
        """The symlinks from path to a regular file: [(path, link text)...], final path."""
        hops = []
        for _ in range(40):
            h = self.host(path)
            if not os.path.islink(h):
                if not os.path.isfile(h):
                    die(f"{path}: not a regular file in {self.root}")
                return hops, path
            text = os.readlink(h)
            hops.append((path, text))
            path = os.path.normpath(text if text.startswith("/") else os.path.join(os.path.dirname(path), text))
        die(f"{path}: too many symlinks")
        return None


def elf_info(host_path):
    """(DT_NEEDED sonames, RUNPATH dirs, interpreter or None) of an ELF file."""
    needed, runpath = [], []
    out = subprocess.run(["readelf", "-dW", host_path], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if "(NEEDED)" in line:
            needed.append(line.split("[", 1)[1].split("]", 1)[0])
        elif "(RUNPATH)" in line or "(RPATH)" in line:
            runpath += line.split("[", 1)[1].split("]", 1)[0].split(":")
    interp = None
    out = subprocess.run(["readelf", "-lW", host_path], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if "program interpreter:" in line:
            interp = line.split("program interpreter:", 1)[1].strip().rstrip("]").strip()
    return needed, runpath, interp


class Image:
    def __init__(self, root, triplet):
        self.root = root
        self.lib_dirs = [f"/lib/{triplet}", f"/usr/lib/{triplet}", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]
        self.files = {}  # image path -> ("file", host path, mode) | ("link", text) | ("data", bytes, mode)
        self.sources = {}  # image path -> the path a package installs it at (for dpkg ownership)
        self.elf_done = set()

    def add_from_root(self, path):
        """Adds path (and the symlinks leading to it) from the root; returns the image path of the file."""
        hops, final = self.root.chain(path)
        for p, text in hops:
            self.files[merged(p)] = ("link", text)
            self.sources[merged(p)] = p
        mode = stat.S_IMODE(os.stat(self.root.host(final)).st_mode) & 0o755
        self.files[merged(final)] = ("file", self.root.host(final), mode)
        self.sources[merged(final)] = final
        return final

    def add_elf(self, host_path):
        if host_path in self.elf_done:
            return
        self.elf_done.add(host_path)
        needed, runpath, interp = elf_info(host_path)
        if interp:
            self.add_elf(self.root.host(self.add_from_root(interp)))
        for soname in needed:
            for d in runpath + self.lib_dirs:
                if self.root.lexists(f"{d}/{soname}"):
                    self.add_elf(self.root.host(self.add_from_root(f"{d}/{soname}")))
                    break
            else:
                die(f"{os.path.basename(host_path)} needs {soname}, found in none of {self.lib_dirs} of {self.root.root}")

    def add_data(self, path, data, mode=0o644):
        self.files[path] = ("data", data, mode)


def dpkg_owners(admin):
    """{merged path: package} from ADMIN/info/*.list, and {package: status stanza}."""
    owners, stanzas = {}, {}
    info = os.path.join(admin, "info")
    for name in sorted(os.listdir(info)):
        if not name.endswith(".list"):
            continue
        pkg = name[:-5].split(":", 1)[0]
        with open(os.path.join(info, name), encoding="utf-8", errors="replace") as f:
            for line in f:
                p = line.rstrip("\n")
                if p and p != "/.":
                    owners.setdefault(merged(p), pkg)
    with open(os.path.join(admin, "status"), encoding="utf-8", errors="replace") as f:
        for block in f.read().split("\n\n"):
            fields = [ln for ln in block.strip("\n").split("\n") if ln]
            pkg = next((ln.split(":", 1)[1].strip() for ln in fields if ln.startswith("Package:")), None)
            if not pkg:
                continue
            keep, skip = [], False
            for ln in fields:  # drop the install state and the conffile list (paths the image lacks)
                if not ln.startswith((" ", "\t")):
                    skip = ln.split(":", 1)[0] in ("Status", "Conffiles", "Config-Version")
                if not skip:
                    keep.append(ln)
            stanzas[pkg] = "\n".join(keep) + "\n"
    return owners, stanzas


def ca_bundle(root):
    d = root.host("/usr/share/ca-certificates/mozilla")
    names = sorted(n for n in os.listdir(d) if n.endswith(".crt")) if os.path.isdir(d) else []
    if not names:
        die(f"no CA certificates in {d} (package ca-certificates)")
    out = b""
    for n in names:
        with open(os.path.join(d, n), "rb") as f:
            data = f.read()
        out += data if data.endswith(b"\n") else data + b"\n"
    return out


def build_root(args, triplet):
    root = Root(args.source_root)
    img = Image(root, triplet)
    img.files[BINARY_PATH] = ("file", os.path.abspath(args.binary), 0o755)
    img.add_elf(os.path.abspath(args.binary))
    for tool in TOOLS:
        if not root.lexists(tool):
            die(f"{tool} missing in {root.root} (packages nvme-cli, smartmontools)")
        img.add_elf(root.host(img.add_from_root(tool)))
    for path in DATA:
        if root.lexists(path):
            img.add_from_root(path)
    owners, stanzas = dpkg_owners(args.dpkg_admin)
    pkgs = sorted({owners[merged(src)] for src in img.sources.values() if merged(src) in owners})
    missing = [p for p, src in img.sources.items() if merged(src) not in owners and img.files[p][0] == "file"]
    if missing:
        die(f"files of no Debian package in {args.dpkg_admin}: {', '.join(sorted(missing))}")
    for pkg in pkgs + ["ca-certificates"]:
        copyright_path = f"/usr/share/doc/{pkg}/copyright"
        if os.path.isfile(root.host(copyright_path)) and not os.path.islink(root.host(copyright_path)):
            img.files[copyright_path] = ("file", root.host(copyright_path), 0o644)
        if pkg not in stanzas:
            die(f"package {pkg} has no entry in {args.dpkg_admin}/status")
        img.add_data(f"/var/lib/dpkg/status.d/{pkg}", stanzas[pkg].encode())
    img.add_data("/etc/ssl/certs/ca-certificates.crt", ca_bundle(root))
    img.add_data("/etc/passwd", f"root:x:0:0:root:/root:/sbin/nologin\n"
                 f"nonroot:x:{USER}:{USER}:nonroot:/home/nonroot:/sbin/nologin\n".encode())
    img.add_data("/etc/group", f"root:x:0:\nnonroot:x:{USER}:\n".encode())
    img.add_data("/etc/nsswitch.conf", b"passwd: files\ngroup: files\nhosts: files dns\n")
    for top, usr in MERGED.items():
        if any(p.startswith(usr + "/") for p in img.files):
            img.files[top] = ("link", usr.lstrip("/"))
    return img, pkgs


def layer_tar(img, epoch):
    """The layer: every file and its parent directories, in path order."""
    dirs = {"/tmp": (0o1777, 0), "/home/nonroot": (0o755, USER), "/root": (0o700, 0)}
    for p in img.files:
        d = os.path.dirname(p)
        while d != "/":
            dirs.setdefault(d, (0o755, 0))
            d = os.path.dirname(d)
    entries = sorted([(p, "dir") for p in dirs] + [(p, None) for p in img.files])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, kind in entries:
            ti = tarfile.TarInfo(path.lstrip("/"))
            ti.mtime = epoch
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            data = None
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode, owner = dirs[path]
                ti.uid = ti.gid = owner
            else:
                entry = img.files[path]
                if entry[0] == "link":
                    ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, entry[1], 0o777
                elif entry[0] == "file":
                    with open(entry[1], "rb") as f:
                        data = f.read()
                    ti.mode = entry[2]
                else:
                    data, ti.mode = entry[1], entry[2]
            if data is not None:
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
            else:
                tar.addfile(ti)
    return buf.getvalue()


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_blob(layout, data):
    digest = sha(data)
    path = os.path.join(layout, "blobs", "sha256", digest[7:])
    with open(path, "wb") as f:
        f.write(data)
    return {"digest": digest, "size": len(data)}


def tar_dir(src, dest, epoch):
    """An archive of the layout directory, deterministic like the layer."""
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames.sort()
            rel = os.path.relpath(dirpath, src)
            if rel != ".":
                ti = tarfile.TarInfo(rel)
                ti.type, ti.mtime, ti.mode, ti.uname, ti.gname = tarfile.DIRTYPE, epoch, 0o755, "", ""
                tar.addfile(ti)
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                ti = tarfile.TarInfo(os.path.normpath(os.path.join(rel, name)))
                ti.size, ti.mtime, ti.mode = os.path.getsize(full), epoch, 0o644
                ti.uname = ti.gname = ""
                with open(full, "rb") as f:
                    tar.addfile(ti, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--dpkg-admin", required=True, help="dpkg admin dir of the source root (info/*.list, status)")
    ap.add_argument("--out", help="where the OCI layout and archive go")
    ap.add_argument("--rootfs-tar", help="write only the layer's uncompressed tar here (the Dockerfile's use)")
    ap.add_argument("--epoch", type=int, default=int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0))
    ap.add_argument("--version", default="0.0.0")
    ap.add_argument("--created-by", default="scripts/image.py")
    args = ap.parse_args()
    if args.epoch <= 0:
        die("set SOURCE_DATE_EPOCH (or --epoch): the time every file and the image carry")
    machine = platform.machine()
    if machine not in ARCH:
        die(f"unsupported architecture {machine}")
    goarch, triplet = ARCH[machine]
    img, pkgs = build_root(args, triplet)
    layer = layer_tar(img, args.epoch)
    if args.rootfs_tar:
        with open(args.rootfs_tar, "wb") as f:
            f.write(layer)
        print(f"image: root of {len(img.files)} files from {len(pkgs)} Debian packages in {args.rootfs_tar}")
        return
    if not args.out:
        die("--out or --rootfs-tar is needed")
    gz = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz, mtime=0, compresslevel=6) as g:
        g.write(layer)
    layer_gz = gz.getvalue()

    layout = os.path.join(args.out, "oci")
    if os.path.exists(layout):
        subprocess.run(["rm", "-rf", layout], check=True)
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(args.epoch))
    labels = {"org.opencontainers.image.title": "couchestor",
              "org.opencontainers.image.description": "CoucheStor: tiered storage for Kubernetes on Mayastor",
              "org.opencontainers.image.version": args.version,
              "org.opencontainers.image.created": created}
    config = {"architecture": goarch, "os": "linux", "created": created,
              "config": {"User": f"{USER}:{USER}", "Entrypoint": [BINARY_PATH], "Cmd": ["operator"],
                         "Env": ["PATH=/usr/local/bin:/usr/bin:/usr/sbin"], "WorkingDir": "/",
                         "ExposedPorts": {"8080/tcp": {}, "8081/tcp": {}}, "Labels": labels},
              "rootfs": {"type": "layers", "diff_ids": [sha(layer)]},
              "history": [{"created": created, "created_by": args.created_by}]}
    cfg_desc = write_blob(layout, canonical(config))
    layer_desc = write_blob(layout, layer_gz)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cfg_desc},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer_desc}],
                "annotations": {"org.opencontainers.image.created": created,
                                "org.opencontainers.image.version": args.version}}
    man_desc = write_blob(layout, canonical(manifest))
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **man_desc,
                            "annotations": {"org.opencontainers.image.ref.name": args.version,
                                            "io.containerd.image.name": f"{IMAGE_NAME}:{args.version}"}}]}
    with open(os.path.join(layout, "index.json"), "wb") as f:
        f.write(canonical(index))
    with open(os.path.join(layout, "oci-layout"), "wb") as f:
        f.write(canonical({"imageLayoutVersion": "1.0.0"}))
    archive = os.path.join(args.out, f"couchestor-{args.version}.oci.tar")
    tar_dir(layout, archive, args.epoch)
    print(f"image: {IMAGE_NAME}:{args.version} {man_desc['digest']}")
    print(f"image: {len(img.files)} files from {len(pkgs)} Debian packages ({', '.join(pkgs)})")
    print(f"image: layer {len(layer) / 1048576:.1f} MiB uncompressed, {len(layer_gz) / 1048576:.1f} MiB compressed; "
          f"archive {archive} {os.path.getsize(archive) / 1048576:.1f} MiB")
    with open(os.path.join(args.out, "digest"), "w") as f:
        f.write(man_desc["digest"] + "\n")


if __name__ == "__main__":
    main()
