#!/usr/bin/env python3
"""Every parameter parsed is used: each field of cs_config_t (include/couchestor/config.h) must be read somewhere
in src/ outside src/core/config.c, the loader. A read is `<something cfg or config>->field` or `...cfg.field`
(the operator's code names a configuration `cfg`), so a policy's own spec.dry_run does not count for the
operator-wide dry_run. Fails naming every field nobody reads: use it as its comment says, or remove it (with its
key, flag, variable and docs).

The test of each key changing its field is tests/unit/core/config_keys.c."""
import os
import re
import sys

ROOT = os.environ.get("CS_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
HEADER = os.path.join(ROOT, "include", "couchestor", "config.h")
SRC = os.path.join(ROOT, "src")
LOADER = os.path.join("src", "core", "config.c")
# Fields that exist for the loader itself. sources: where each value came from, printed by cs_config_print
# (`couchestor config`), which is in the loader.
LOADER_ONLY = {"sources"}


def struct_fields(header_text):
    m = re.search(r"typedef\s+struct\s+cs_config_s\s*\{(.*?)\}\s*cs_config_t\s*;", header_text, re.S)
    if not m:
        raise SystemExit("config.h: no `typedef struct cs_config_s {...} cs_config_t;` found")
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    fields = []
    for decl in body.split(";"):
        decl = decl.strip()
        if not decl:
            continue
        name = re.search(r"(\w+)\s*(\[[^\]]*\]\s*)*$", decl)
        if not name:
            raise SystemExit("config.h: cannot read the field declaration %r" % decl)
        fields.append(name.group(1))
    return fields


def unread(fields, sources):
    """fields: names; sources: {path: text} of the code outside the loader. The fields no source reads."""
    missing = []
    for f in fields:
        pat = re.compile(r"\b\w*(?:cfg|config)\w*\s*(?:->|\.)\s*%s\b" % re.escape(f))
        if not any(pat.search(text) for text in sources.values()):
            missing.append(f)
    return missing


def self_test():
    hdr = "typedef struct cs_config_s {\n int64_t used; /* x; y */\n char *spec_only;\n char s[2][3];\n} cs_config_t;"
    fields = struct_fields(hdr)
    assert fields == ["used", "spec_only", "s"], fields
    src = {"a.c": "x = op->cfg->used; y = pol.spec.spec_only; z = cfg.s[0];"}
    got = unread(fields, src)
    assert got == ["spec_only"], got


def main():
    self_test()
    with open(HEADER, encoding="utf-8") as fh:
        fields = struct_fields(fh.read())
    if len(fields) < 10:
        raise SystemExit("config.h: only %d fields found in cs_config_t; the parser is broken" % len(fields))
    sources = {}
    for d, _, files in os.walk(SRC):
        for name in files:
            path = os.path.join(d, name)
            rel = os.path.relpath(path, ROOT)
            if name.endswith((".c", ".h")) and rel != LOADER:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    sources[rel] = fh.read()
    missing = [f for f in unread(fields, sources) if f not in LOADER_ONLY]
    for f in missing:
        print("cs_config_t.%s (include/couchestor/config.h) is parsed but never read outside %s: use it as its "
              "comment says, or remove it with its key and docs" % (f, LOADER), file=sys.stderr)
    if missing:
        return 1
    print("every one of the %d cs_config_t fields is read outside %s (loader-only: %s)"
          % (len(fields), LOADER, ", ".join(sorted(LOADER_ONLY))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
