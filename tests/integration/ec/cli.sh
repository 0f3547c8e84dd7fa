#!/usr/bin/env bash
# CLI test for `couchestor ec`: round trip, reconstruction on decode, verify
# exit codes, repair, info/--json, usage errors, no progress bar off a tty.
set -u
BIN=${CS_BINARY:-$1}
T=$(mktemp -d /tmp/cs-ec-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$T"/d{0..5}
D=$(echo "$T"/d{0..5} | tr ' ' ',')
head -c 1234567 /dev/urandom > "$T/file.bin"

"$BIN" ec encode -k 4 -m 2 --stripe-size 128Ki --dirs "$D" "$T/file.bin" > "$T/enc.out" 2> "$T/enc.err" \
  || fail "encode: $(cat "$T/enc.err")"
grep -q "encoded 'file.bin': .* as 4+2" "$T/enc.out" || fail "encode output: $(cat "$T/enc.out")"
[ -s "$T/enc.err" ] && fail "stderr not a tty but got: $(cat "$T/enc.err")"
ls "$T"/d0 | grep -q file.bin && fail "object name used as a path"

"$BIN" ec decode --dirs "$D" file.bin -o "$T/out1" > /dev/null || fail "decode"
cmp -s "$T/file.bin" "$T/out1" || fail "decode bytes differ"
"$BIN" ec verify --dirs "$D" > "$T/v0" || fail "verify of a healthy store: $(cat "$T/v0")"
grep -q "file.bin: ok" "$T/v0" || fail "verify output: $(cat "$T/v0")"

# lose one shard, corrupt another: decode still succeeds and says so
rm "$T"/d0/*/*.shard
f=$(ls "$T"/d3/*/*.shard)
printf 'XXXX' | dd of="$f" bs=1 seek=9000 conv=notrunc status=none
"$BIN" ec decode --dirs "$D" file.bin -o "$T/out2" > "$T/dec.out" || fail "decode with damage"
cmp -s "$T/file.bin" "$T/out2" || fail "reconstructed bytes differ"
grep -q "reconstructed" "$T/dec.out" || fail "decode did not say it reconstructed: $(cat "$T/dec.out")"

"$BIN" ec verify --dirs "$D" file.bin > "$T/v1"; rc=$?
[ $rc -eq 1 ] || fail "verify of damage exited $rc"
grep -q "DAMAGED: 2 shard" "$T/v1" || fail "verify output: $(cat "$T/v1")"
grep -q "missing" "$T/v1" && grep -q "corrupt" "$T/v1" || fail "verify does not list what: $(cat "$T/v1")"
"$BIN" ec verify --dirs "$D" --json > "$T/v1.json"; [ $? -eq 1 ] || fail "verify --json exit"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["damaged"]==1 and d["objects"][0]["damaged"]==2, d' "$T/v1.json" \
  || fail "verify --json content"

"$BIN" ec repair --dirs "$D" > "$T/r" || fail "repair: $(cat "$T/r")"
grep -q "repaired (2 shard" "$T/r" || fail "repair output: $(cat "$T/r")"
"$BIN" ec verify --dirs "$D" > /dev/null || fail "verify after repair"
"$BIN" ec info --dirs "$D" file.bin --json | python3 -c 'import json,sys; d=json.load(sys.stdin); o=d["objects"][0]; assert o["length"]==1234567 and o["k"]==4 and o["m"]==2 and len(o["shards"])==6, o' \
  || fail "info --json"

# too much damage: decode fails, writes nothing
rm "$T"/d1/*/*.shard "$T"/d2/*/*.shard "$T"/d4/*/*.shard
"$BIN" ec decode --dirs "$D" file.bin -o "$T/out3" 2> "$T/e3"; rc=$?
[ $rc -eq 1 ] || fail "decode beyond m exited $rc"
grep -q "InsufficientShards: available 3, required 4" "$T/e3" || fail "message: $(cat "$T/e3")"
[ -e "$T/out3" ] && fail "partial output left behind"
ls "$T" | grep -q 'out3.tmp' && fail "temporary output left behind"

# names that are not valid UTF-8: --json stays valid JSON (U+FFFD for each
# bad byte) and carries the exact bytes in name_hex; valid UTF-8 is kept
"$BIN" ec encode -k 4 -m 2 --dirs "$D" "$T/file.bin" > /dev/null || fail "re-encode over a damaged object"
bad=$(printf 'a\xff\xc3(\xed\xa0\x80z')
"$BIN" ec encode -k 2 -m 1 --name "$bad" --dirs "$D" "$T/file.bin" --json > "$T/u1.json" || fail "encode odd name"
"$BIN" ec encode -k 2 -m 1 --name "é✓\"" --dirs "$D" "$T/file.bin" > /dev/null || fail "encode utf-8 name"
"$BIN" ec info --dirs "$D" --json > "$T/u2.json" || fail "info with odd names"
python3 - "$T/u1.json" "$T/u2.json" <<'PY' || fail "--json with non-UTF-8 names: $(cat "$T/u1.json" "$T/u2.json")"
import json, sys
want = "a\ufffd\ufffd(\ufffd\ufffd\ufffdz"
e = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))  # strict UTF-8
assert e["name"] == want and e["name_hex"] == "61ffc328eda0807a", e
objs = json.loads(open(sys.argv[2], "rb").read().decode("utf-8"))["objects"]
odd = [o for o in objs if o["name"] == want]
assert len(odd) == 1 and bytes.fromhex(odd[0]["name_hex"]) == b"a\xff\xc3(\xed\xa0\x80z", objs
ok = [o for o in objs if o["name"] == 'é✓"']
assert len(ok) == 1 and "name_hex" not in ok[0], objs
PY

# delete: whole objects, by name; a second delete says not found
"$BIN" ec delete --dirs "$D" "$bad" "é✓\"" > "$T/del.out" || fail "delete: $(cat "$T/del.out")"
grep -q ': deleted' "$T/del.out" || fail "delete output: $(cat "$T/del.out")"
"$BIN" ec delete --dirs "$D" --json "$bad" > "$T/del.json"; [ $? -eq 1 ] || fail "second delete exit"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1],"rb")); assert d["failed"]==1 and d["objects"][0]["code"]=="ENOTFOUND", d' "$T/del.json" \
  || fail "delete --json: $(cat "$T/del.json")"
"$BIN" ec info --dirs "$D" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [o["name"] for o in d["objects"]]==["file.bin"], d' \
  || fail "deleted objects still listed"

# usage errors exit 2
"$BIN" ec encode -k 4 --dirs "$D" "$T/file.bin" 2>/dev/null; [ $? -eq 2 ] || fail "missing -m"
"$BIN" ec frobnicate 2>/dev/null; [ $? -eq 2 ] || fail "unknown op"
"$BIN" ec decode --dirs "$D" 2>/dev/null; [ $? -eq 2 ] || fail "decode without name"
"$BIN" ec delete --dirs "$D" 2>/dev/null; [ $? -eq 2 ] || fail "delete without name"
"$BIN" ec encode -k 4 -m 4 --dirs "$D" "$T/file.bin" 2>/dev/null; [ $? -eq 1 ] || fail "k+m > dirs"
"$BIN" ec --help | grep -q "couchestor ec encode -k K -m M" || fail "help"
echo "ec cli: ok"
