#!/usr/bin/env python3
"""check-deps.py: the include graph must match the build graph.

Each module is declared in CMakeLists.txt as
    cs_module(NAME HEADERS h... DEPS module... EXT target...)
HEADERS are its public headers (include/couchestor/<h>.h), DEPS the modules
it may use. For every module, the files it consists of (src/NAME/*.[ch] and
its public headers) are read, and:
  - each #include "couchestor/X.h" must name a header of the module itself
    or of a module in its DEPS;
  - each #include "OTHER/..." of another module's private header is refused;
  - each module in DEPS must be used: one of its headers is included;
  - every header in include/couchestor/ belongs to exactly one module.
Prints one line per problem, a person can act on, and exits 1 when any.
Run by `make check` (scripts/check.sh); run it alone as
`python3 scripts/check-deps.py`.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def modules_from_cmake(text):
    """{name: {"headers": [...], "deps": [...]}} from the cs_module() calls."""
    mods = {}
    for m in re.finditer(r"^\s*cs_module\(([^)]*)\)", text, re.M):
        words = m.group(1).split()
        name, section = words[0], None
        entry = {"headers": [], "deps": []}
        for w in words[1:]:
            if w in ("HEADERS", "DEPS", "EXT"):
                section = w
            elif section == "HEADERS":
                entry["headers"].append(w)
            elif section == "DEPS":
                entry["deps"].append(w)
        mods[name] = entry
    return mods


def main():
    mods = modules_from_cmake(read(os.path.join(ROOT, "CMakeLists.txt")))
    problems = []
    owner = {}
    for name, m in mods.items():
        for h in m["headers"]:
            if h in owner:
                problems.append(f"include/couchestor/{h}.h: declared by both {owner[h]} and {name} in CMakeLists.txt")
            owner[h] = name
            if not os.path.exists(os.path.join(ROOT, "include", "couchestor", h + ".h")):
                problems.append(f"CMakeLists.txt: module {name} declares header {h}, but include/couchestor/{h}.h "
                                "does not exist")
    for f in sorted(os.listdir(os.path.join(ROOT, "include", "couchestor"))):
        if f.endswith(".h") and f[:-2] not in owner:
            problems.append(f"include/couchestor/{f}: no module declares it; add it to the HEADERS of its module's "
                            "cs_module() in CMakeLists.txt")

    for name, m in sorted(mods.items()):
        src_dir = os.path.join(ROOT, "src", name)
        files = [os.path.join("include", "couchestor", h + ".h") for h in m["headers"]]
        if os.path.isdir(src_dir):
            files += [os.path.join("src", name, f) for f in sorted(os.listdir(src_dir)) if f.endswith((".c", ".h"))]
        used = set()
        for rel in files:
            path = os.path.join(ROOT, rel)
            if not os.path.exists(path):
                continue
            for inc in INCLUDE_RE.findall(read(path)):
                head, _, rest = inc.partition("/")
                if head == "couchestor":
                    h = rest[:-2] if rest.endswith(".h") else rest
                    dep = owner.get(h)
                    if dep is None:
                        continue  # reported above as a header of no module
                    if dep != name and dep not in m["deps"]:
                        problems.append(f"{rel}: includes couchestor/{rest} of module {dep}, which module {name} does "
                                        f"not declare: add {dep} to its DEPS in CMakeLists.txt, or drop the include")
                    used.add(dep)
                elif rest and head in mods and head != name:
                    problems.append(f"{rel}: includes {inc}, a private header of module {head}; use its public "
                                    "header instead")
        for dep in m["deps"]:
            if dep not in mods:
                problems.append(f"CMakeLists.txt: module {name} depends on unknown module {dep}")
            elif dep not in used:
                problems.append(f"CMakeLists.txt: module {name} declares DEPS {dep} but includes none of its headers "
                                f"({', '.join(h + '.h' for h in mods[dep]['headers'])}): remove it from DEPS")

    for p in problems:
        print("check-deps: " + p, file=sys.stderr)
    if problems:
        return 1
    print(f"check-deps: {len(mods)} modules; every include is declared and every declared dependency is used")
    return 0


if __name__ == "__main__":
    sys.exit(main())
