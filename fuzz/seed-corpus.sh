#!/usr/bin/env bash
# Seeds the fuzz corpora from the envelope fixtures.
#
#   fuzz/seed-corpus.sh            # from anywhere in the repository
#
# envelope_parse gets every envelope fixture under 64 KiB (larger ones only
# slow libFuzzer down: its default -max_len follows the largest seed);
# event_json gets the event JSON fixtures and the event payload of each
# envelope fixture that has one.
set -euo pipefail

fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fixtures="$fuzz_dir/../fixtures/envelopes"

mkdir -p "$fuzz_dir/corpus/envelope_parse" "$fuzz_dir/corpus/event_json"

for file in "$fixtures"/envelope-*.bin "$fixtures"/clients/*.envelope; do
    if [ "$(wc -c < "$file")" -le 65536 ]; then
        cp "$file" "$fuzz_dir/corpus/envelope_parse/"
    fi
done

cp "$fixtures"/event.json "$fixtures"/event-rich.json "$fuzz_dir/corpus/event_json/"

# The payload of the first `event` item of each envelope, via its `length`
# or up to the next newline.
python3 - "$fuzz_dir/corpus/event_json" "$fixtures"/envelope-*.bin "$fixtures"/clients/*.envelope <<'PY'
import json, os, sys

out = sys.argv[1]
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    pos = data.find(b"\n") + 1
    while 0 < pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        try:
            header = json.loads(data[pos:end])
        except ValueError:
            break
        pos = end + 1
        length = header.get("length") if isinstance(header, dict) else None
        if length is None:
            stop = data.find(b"\n", pos)
            stop = len(data) if stop < 0 else stop
        else:
            stop = pos + length
        if isinstance(header, dict) and header.get("type") == "event":
            name = os.path.basename(path) + ".event.json"
            open(os.path.join(out, name), "wb").write(data[pos:stop])
            break
        pos = stop + 1
PY

echo "envelope_parse: $(ls "$fuzz_dir/corpus/envelope_parse" | wc -l) seeds"
echo "event_json: $(ls "$fuzz_dir/corpus/event_json" | wc -l) seeds"
