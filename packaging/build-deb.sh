#!/usr/bin/env bash
# Builds the diala-edge .deb for one architecture from an already built binary.
#   packaging/build-deb.sh <amd64|arm64> <path/to/diala-edge> <output dir> <docs dir>
# The docs dir holds what `diala-edge generate-docs` wrote: completions and man pages, the same
# for every architecture, so the build machine's binary makes them.
#
# The package is assembled with dpkg-deb directly: the maintainer scripts are our own (they
# must never start the service on an unconfigured box), so debhelper would add little.
set -euo pipefail

arch=${1:?architecture}
binary=${2:?binary}
out=${3:?output directory}
docs=${4:?directory written by diala-edge generate-docs}
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$top/Cargo.toml" | head -n1)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
doc=$root/usr/share/doc/diala-edge

install -D -m 0755 "$binary" "$root/usr/bin/diala-edge"
install -D -m 0644 "$top/systemd/diala-edge.service" "$root/lib/systemd/system/diala-edge.service"
install -D -m 0644 "$top/firmware-config/appliance.toml" "$root/etc/diala-edge/appliance.toml"
install -D -m 0644 "$top/firmware-config/nftables/diala-edge.nft" "$root/etc/diala-edge/diala-edge.nft"
install -D -m 0644 "$top/firmware-config/sysusers.d/diala-edge.conf" \
    "$root/usr/lib/sysusers.d/diala-edge.conf"
install -D -m 0644 "$top/firmware-config/tmpfiles.d/diala-edge.conf" \
    "$root/usr/lib/tmpfiles.d/diala-edge.conf"
install -D -m 0644 "$top/firmware-config/sysctl.d/60-diala-edge.conf" \
    "$root/usr/lib/sysctl.d/60-diala-edge.conf"
install -D -m 0644 "$docs/completions/diala-edge.bash" \
    "$root/usr/share/bash-completion/completions/diala-edge"
install -D -m 0644 "$docs/completions/_diala-edge" "$root/usr/share/zsh/vendor-completions/_diala-edge"
install -D -m 0644 "$docs/completions/diala-edge.fish" \
    "$root/usr/share/fish/vendor_completions.d/diala-edge.fish"
for page in "$docs"/man/*.1; do
    install -D -m 0644 "$page" "$root/usr/share/man/man1/$(basename "$page")"
    gzip -9n "$root/usr/share/man/man1/$(basename "$page")"
done
install -D -m 0644 "$top/README.md" "$doc/README.md"
install -D -m 0644 "$top/packaging/deb/copyright" "$doc/copyright"
install -D -m 0644 "$top/packaging/deb/plain-credential.conf" "$doc/examples/plain-credential.conf"
install -D -m 0644 "$top/packaging/deb/lintian-overrides" \
    "$root/usr/share/lintian/overrides/diala-edge"
printf 'diala-edge (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- diala-edge maintainers <edge@diala.example>  %s\n' \
    "$version" "$version" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)}")" \
    | gzip -9n > "$doc/changelog.gz"

# Debian strips symbols from shipped binaries; the line tables stay for backtraces.
case "$arch" in
    amd64) strip_tool=strip ;;
    arm64) strip_tool=aarch64-linux-gnu-strip ;;
    *) echo "unknown architecture $arch" >&2; exit 2 ;;
esac
"$strip_tool" --strip-unneeded "$root/usr/bin/diala-edge"

# SQLCipher links the system's libcrypto on amd64 and a vendored one on arm64 (see Makefile).
depends="libc6 (>= 2.36), libgcc-s1, libstdc++6, libsystemd0, ca-certificates"
if [ "$arch" = amd64 ]; then
    depends="$depends, libssl3"
fi

mkdir -p "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$size/" \
    -e "s/@DEPENDS@/$depends/" "$top/packaging/deb/control.in" > "$root/DEBIAN/control"
printf '%s\n' /etc/diala-edge/appliance.toml /etc/diala-edge/diala-edge.nft > "$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$top/packaging/deb/$script" "$root/DEBIAN/$script"
done

mkdir -p "$out"
deb=$out/diala-edge_${version}_${arch}.deb
dpkg-deb --root-owner-group --build -Zxz "$root" "$deb" >/dev/null
echo "$deb"
