# Sourced by .ci/cross-check and .ci/windows: a compiler that can build std for targets
# the stable toolchain here has no std for (macOS, Windows).
#
# It is Debian's rustc-web with the std source of the same version (rust-web-src) and the
# libraries rustc links, fetched with apt-get download and unpacked (never installed) into
# a cache outside the clone, so that CI's fresh clones and every worktree reuse one copy:
# $CACHE/rustc-web, CACHE being ${XDG_CACHE_HOME:-~/.cache}/rust-concurrency-examples.
# It needs Debian's bookworm-security archive (or any with rustc-web >= the workspace's
# rust-version) and network access to it, on the first run only.
#
# The caller defines `cannot_run MESSAGE` (print it, exit 2) and then calls
# `rustc_web_toolchain`, which sets `rustc` to a wrapper that starts the unpacked compiler.
# Cargo uses it as RUSTC, with RUSTC_BOOTSTRAP=1 for -Z build-std.

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/rust-concurrency-examples"

# The workspace's `rust-version` (root Cargo.toml): the oldest rustc that builds it.
REQUIRED_RUSTC=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml | head -n 1)

# at_least HAVE NEED: true when version HAVE (1.85.0, or Debian's 1.85.0+dfsg3-1~deb12u3)
# is NEED or newer.
at_least() {
    local have="${1%%[+~-]*}"
    [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$2" "$have" | sort -V | head -n 1)" = "$2" ]
}

# Sets `rustc`; unpacks the toolchain first if the cached one is missing, does not start,
# or is older than the workspace's rust-version (then it is replaced, never reused).
# A lock keeps two scripts from unpacking at once; the copy is unpacked beside the cache
# and moved into place whole, so a half-unpacked one is never used.
rustc_web_toolchain() {
    local toolchain="$CACHE/rustc-web"
    rustc="$toolchain/rustc"
    [ -n "$REQUIRED_RUSTC" ] || cannot_run "Cargo.toml names no rust-version"
    mkdir -p "$CACHE" || cannot_run "cannot create the cache folder $CACHE"
    if ! _usable "$rustc"; then
        exec {lock}>"$CACHE/rustc-web.lock"
        flock "$lock"
        if ! _usable "$rustc" quietly; then
            _unpack_rustc_web "$toolchain"
        fi
        exec {lock}>&-
        "$rustc" -V >/dev/null || cannot_run "the unpacked rustc does not start (a library it needs is missing: see above)"
    fi
}

# _usable RUSTC [quietly]: it starts, and is at least the workspace's rust-version (it says
# why not, unless told to be quiet).
_usable() {
    local version
    version=$("$1" -V 2>/dev/null | cut -d' ' -f2) || return 1
    [ -n "$version" ] || return 1
    if ! at_least "$version" "$REQUIRED_RUSTC"; then
        [ -n "${2:-}" ] || echo "toolchain: the cached rustc $version is older than the workspace's rust-version $REQUIRED_RUSTC; replacing it" >&2
        return 1
    fi
}

# The version of rustc-web apt would fetch now ("" if it knows none).
_candidate() {
    apt-cache policy rustc-web 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '^(none)$' || true
}

# Debian's rustc-web and the std source of the same version, unpacked into $1.
_unpack_rustc_web() {
    local toolchain="$1" new="$1.new.$$"
    command -v apt-get >/dev/null && command -v apt-cache >/dev/null &&
        command -v dpkg-deb >/dev/null ||
        cannot_run "it fetches Debian's rustc-web with apt-get and unpacks it with dpkg-deb, which this machine lacks (Debian and Ubuntu have both)"
    # A fresh machine's package lists are empty, and lists fetched before bookworm-security
    # had a new enough rustc-web offer bookworm's 1.85: either way, `apt-get update` first.
    local version packages
    version=$(_candidate)
    if ! at_least "$version" "$REQUIRED_RUSTC"; then
        if [ "$(id -u)" -eq 0 ]; then
            echo "toolchain: apt offers rustc-web ${version:-(none)}, older than the workspace's rust-version $REQUIRED_RUSTC; running apt-get update" >&2
            apt-get update -qq || cannot_run "apt-get update failed (see above)"
            version=$(_candidate)
        fi
        at_least "$version" "$REQUIRED_RUSTC" ||
            cannot_run "apt offers rustc-web ${version:-(none)}, and the workspace needs rustc $REQUIRED_RUSTC or newer (rust-version in Cargo.toml): run \`sudo apt-get update\` with Debian's bookworm-security archive in the sources, which has a newer rustc-web"
    fi
    # rustc-web's own libraries, whose names carry their versions (libstd-rust-web-1.96, libllvm22).
    packages=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances rustc-web |
        grep -E '^(libstd-rust-web-[0-9.]+|libstd-rust-web-dev|libllvm[0-9]+)$' | sort -u)
    echo "toolchain: fetching rustc-web $version and its std source into $toolchain (once)" >&2
    rm -rf "$new"
    mkdir -p "$new/debs"
    # shellcheck disable=SC2086 # $packages is a list of names
    (cd "$new/debs" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "rustc-web=$version" "rust-web-src=$version" $packages) ||
        { rm -rf "$new"; cannot_run "apt-get download failed (see above)"; }
    for deb in "$new"/debs/*.deb; do
        dpkg-deb -x "$deb" "$new/root"
    done
    rm -rf "$new/debs"
    # build-std needs only the std library's source, not the compiler's (400 MB).
    rm -rf "$new"/root/usr/src/rustc-*/{src,compiler} "$new/root/usr/share"
    # A wrapper that starts the unpacked rustc with its own shared libraries, from where
    # the copy is about to be moved.
    cat >"$new/rustc" <<EOF
#!/bin/sh
exec env LD_LIBRARY_PATH="$toolchain/root/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" \\
    "$toolchain/root/usr/bin/rustc" "\$@"
EOF
    chmod +x "$new/rustc"
    rm -rf "$toolchain"
    mv "$new" "$toolchain"
}
