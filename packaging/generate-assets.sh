#!/usr/bin/env bash
# Regenerates the files of the package that the binary generates from the code: agent-runner(1)
# (man/agent-runner.1), the bash, zsh and fish completions (packaging/completions/), one example
# project per preset (packaging/examples/) and the journal catalog (packaging/agent-runner.catalog).
# They are committed so that `cargo deb` needs nothing run before it; `cargo test` fails, naming
# this script, when one of them no longer matches the code.
#
#   packaging/generate-assets.sh            rewrites them with `cargo run` (a debug build)
#   packaging/generate-assets.sh BIN ROOT   writes them below ROOT with the binary BIN
#                                           (build-deb.sh compares that with the committed files)
set -euo pipefail
if (($#)); then
    run=("$(realpath "$1")")
    root=$(realpath -m "${2:?usage: packaging/generate-assets.sh [BIN ROOT]}")
    cd "$(dirname "$0")/.."
else
    cd "$(dirname "$0")/.."
    run=(cargo run --quiet --locked --)
    root=$PWD
fi

rm -rf "$root/packaging/completions" "$root/packaging/examples"
mkdir -p "$root/man" "$root/packaging/completions" "$root/packaging/examples"
"${run[@]}" man --output "$root/man" >/dev/null
for shell in bash zsh fish; do
    "${run[@]}" completions "$shell" >"$root/packaging/completions/agent-runner.$shell"
done
"${run[@]}" catalog >"$root/packaging/agent-runner.catalog"

# One example project per preset (src/config/presets.rs), as `init` writes it, with the paths an
# operator would use.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for preset in claude codex gemini aider kimi pi qwen shell; do
    "${run[@]}" init --preset "$preset" "$preset-example" --dir "$scratch" \
        --work-dir "/srv/agents/$preset-example" >/dev/null
    sed "s|$scratch/|/etc/agent-runner/|g" "$scratch/$preset-example.toml" \
        >"$root/packaging/examples/$preset-example.toml"
done
cp "$scratch/prompts/claude-example/main.md" "$root/packaging/examples/prompt-main.md"
cp "$scratch/prompts/shell-example/agent.sh" "$root/packaging/examples/shell-example-agent.sh"
