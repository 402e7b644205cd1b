#!/usr/bin/env bash
# Builds the Debian package into target/debian/ and prints its path on the last line.
#
#   packaging/build-deb.sh            release build, then cargo-deb, then lintian (if installed)
#   LINTIAN=0 packaging/build-deb.sh  skip lintian
#
# Installs cargo-deb (cargo install --locked) when it is missing. The files the binary generates
# (agent-runner(1), the shell completions, the example projects, the journal catalog) are
# committed, so a plain `cargo deb` works too; this script also checks that they are what the
# freshly built binary generates, lints the man pages and compiles the catalog. See
# packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

if ! command -v cargo-deb >/dev/null; then
    echo "build-deb: installing cargo-deb" >&2
    cargo install cargo-deb --locked
fi

cargo build --release --locked
bin=target/release/agent-runner

# The committed generated files must be what this binary generates.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
generated=$scratch/generated
packaging/generate-assets.sh "$bin" "$generated"
stale=0
for dir in packaging/completions packaging/examples; do
    diff -rq "$generated/$dir" "$dir" >&2 || stale=1
done
for file in man/agent-runner.1 packaging/agent-runner.catalog; do
    cmp -s "$generated/$file" "$file" || { echo "build-deb: $file differs" >&2; stale=1; }
done
((stale == 0)) || { echo "build-deb: out of date; run packaging/generate-assets.sh" >&2; exit 1; }

# Man pages must be lint-clean: groff -ww warns about every questionable construct, and
# man --warnings (what lintian runs) about lines it cannot fit into 80 columns.
for page in man/agent-runner.1 man/agent-runner-round.1 man/agent-runner.toml.5 man/agent-runner.units.7; do
    warnings=$(LC_ALL=C.UTF-8 groff -ww -z -man "$page" 2>&1
        LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
    [[ -z $warnings ]] || { echo "build-deb: $page: $warnings" >&2; exit 1; }
done

# The catalog must compile, with one entry per MESSAGE_ID.
catroot=$scratch/catroot
mkdir -p "$catroot/usr/lib/systemd/catalog" "$catroot/var/lib/systemd/catalog"
cp packaging/agent-runner.catalog "$catroot/usr/lib/systemd/catalog/"
journalctl --root="$catroot" --update-catalog
entries=$(journalctl --root="$catroot" --list-catalog | wc -l)
ids=$(grep -c '^-- ' packaging/agent-runner.catalog)
[[ $entries == "$ids" ]] || { echo "build-deb: catalog: $entries of $ids entries compiled" >&2; exit 1; }

# cargo-deb prints the path of the package it wrote on stdout.
deb=$(cargo deb --no-build --locked --output target/debian | tail -n1)
[[ -f $deb ]] || { echo "build-deb: cargo-deb wrote no package" >&2; exit 1; }

if [[ ${LINTIAN:-1} == 1 ]] && command -v lintian >/dev/null; then
    # Errors fail the build; every remaining warning is explained in packaging/README.md.
    lintian --fail-on error "$deb" >&2
fi
echo "$deb"
