#!/usr/bin/env bash
# Installs a snconnect release binary for the GitHub Action (action.yml), or for anyone:
# downloads snconnect-$TARGET.tar.gz (.zip on Windows) and snconnect-$TARGET.sha256 from $BASE,
# checks the archive against its line in the checksum file, and unpacks it into $DIR. Nothing is
# unpacked when the checksum does not match.
#
#   BASE    where the release's files are, e.g.
#           https://github.com/OWNER/snconnect/releases/download/v0.1.0
#   TARGET  the Rust target triple of the asset, e.g. x86_64-unknown-linux-musl
#   DIR     where the binary goes
set -euo pipefail
: "${BASE:?set BASE to the release's download address}"
: "${TARGET:?set TARGET to the asset's target triple}"
: "${DIR:?set DIR to where the binary goes}"

archive="snconnect-$TARGET.tar.gz"
[[ "$TARGET" == *windows* ]] && archive="snconnect-$TARGET.zip"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
curl -fsSL --retry 3 -o "$archive" "$BASE/$archive"
curl -fsSL --retry 3 -o checksum "$BASE/snconnect-$TARGET.sha256"
# The checksum file names the archive it covers: check exactly that line.
if ! grep -E " \*?$archive\$" checksum > expected; then
    echo "snconnect-$TARGET.sha256 has no line for $archive" >&2
    exit 1
fi
if command -v sha256sum >/dev/null; then
    sha256sum -c --quiet expected
else
    shasum -a 256 -c --quiet expected
fi
mkdir -p "$DIR"
if [[ "$archive" == *.zip ]]; then
    unzip -q -o "$archive" -d "$DIR"
else
    tar -xzf "$archive" -C "$DIR"
fi
echo "installed snconnect ($TARGET) in $DIR"
