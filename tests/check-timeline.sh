#!/bin/sh
# Checks the SVG `lkvm timeline` drew of a real hot-add session (tests/system/t-hotplug.sh's
# hotplug-linux), on the build machine: xmllint reads it as well-formed XML, and headless Chromium
# renders it to a PNG that is not blank: it has the colours of the states and marks the session
# went through (vCPU 2 absent, off, on; its plug, unplug and denied CPU_ONs).
# Usage: tests/check-timeline.sh SVG NAME   (prints "PASS NAME" or "FAIL NAME: why")
set -u
svg=$1 name=$2
. "$(dirname "$0")/check-lib.sh"
need="(scripts/install-deps.sh check installs libxml2-utils, chromium and python3)"
for t in xmllint chromium python3; do
	command -v $t >/dev/null || die "no $t $need"
done
[ -s "$svg" ] || die "no $svg"
xmllint --noout "$svg" >"$work/xmllint" 2>&1 || die "xmllint: $(head -n 3 "$work/xmllint")"
size=$(sed -n 's/.*<svg [^>]*width="\([0-9]*\)" height="\([0-9]*\)".*/\1,\2/p' "$svg")
[ -n "$size" ] || die "no width and height in the <svg> element"
# Colours count from the first vCPU row down: the legend above has them all.
top=$(sed -n 's/.*<rect class="row" x="[0-9]*" y="\([0-9]*\)".*/\1/p' "$svg" | head -n 1)
[ -n "$top" ] || die "no vCPU row"
cp "$svg" "$work/timeline.svg"
# As root Chromium needs --no-sandbox; its own home keeps it from the user's profile.
HOME=$work timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--user-data-dir="$work/profile" --window-size="$size" --screenshot="$work/timeline.png" \
	"file://$work/timeline.svg" >"$work/chromium" 2>&1 ||
	die "chromium: $(grep -v 'dbus\|DBus' "$work/chromium" | tail -n 3)"
# The PNG's pixels, decoded with python3's zlib: how many of each colour the states and marks use.
why=$(python3 - "$work/timeline.png" "$size" "$top" <<'PY'

import struct, sys, zlib
png = open(sys.argv[1], "rb").read()
want_w, want_h = (int(v) for v in sys.argv[2].split(","))
def bad(why):
    sys.stdout.write(why)
    sys.exit(1)
if png[:8] != b"\x89PNG\r\n\x1a\n":
    bad("not a PNG")
pos, idat, hdr = 8, b"", None
while pos < len(png):
    n, kind = struct.unpack(">I4s", png[pos:pos + 8])
    if kind == b"IHDR":
        hdr = struct.unpack(">IIBBBBB", png[pos + 8:pos + 21])
    elif kind == b"IDAT":
        idat += png[pos + 8:pos + 8 + n]
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = hdr
if (w, h) != (want_w, want_h) or depth != 8 or ctype not in (2, 6) or interlace:
    bad("%dx%d, depth %d, colour type %d, interlace %d" % (w, h, depth, ctype, interlace))
bpp = 4 if ctype == 6 else 3
raw, stride, prev, counts = zlib.decompress(idat), w * bpp, bytearray(w * bpp), {}
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pred = [0, a, b, (a + b) // 2,
                a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c][f]
        line[i] = (line[i] + pred) & 255
    prev = line
    if y < int(sys.argv[3]):
        continue
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + 3])
        counts[px] = counts.get(px, 0) + 1
want = {"on": "43a047", "off": "9e9e9e", "absent": "eeeeee", "plug": "6a1b9a",
        "unplug": "212121", "CPU_ON denied": "c62828"}
missing = [k for k, v in want.items() if counts.get(bytes.fromhex(v), 0) < 10]
if missing or len(counts) < 8:
    bad("%d colours; none (or too little) of: %s" % (len(counts), ", ".join(missing)))
PY
) || die "the PNG: $why"
check_end
