//! Shell completions (bash, zsh, fish), generated from the clap definition like agent-runner(1),
//! with the project names added for the NAME arguments.
//!
//! clap writes the options and subcommands; the project names cannot be known when the script is
//! written, so each script asks `agent-runner [--user] project-names` (hidden) at the moment of
//! completion: a directory listing, no parsing, no D-Bus, nothing root-only, and only valid project
//! names come back (bash's `compgen -W` expands what it is given, so a file named `$(…).toml`
//! must never reach it). Nothing is asked with `--host` (no ssh on a TAB) or `--config FILE`.
//! The names are added around clap's script rather than by its unstable dynamic completion,
//! which re-runs the binary for every word and cannot see `--user` when it lists candidates.
//!
//! The package installs the scripts from packaging/completions/, where they are committed so that
//! `cargo deb` needs nothing run before it; a test keeps each file equal to what
//! `agent-runner completions SHELL` prints.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{self, Write};

use clap::{ArgAction, CommandFactory};

use crate::cli::args::{Cli, Shell};
use crate::config;
use crate::paths::Scope;

/// Writes the completion script for `shell` into `out`.
pub(crate) fn generate(shell: Shell, out: &mut dyn Write) -> io::Result<()> {
    let clap_shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(clap_shell, &mut Cli::command(), "agent-runner", &mut script);
    let script = String::from_utf8_lossy(&script);
    let named = NamedCommands::of_cli();
    let text = match shell {
        Shell::Bash => with_bash_names(&script, &named),
        Shell::Zsh => with_zsh_names(&script),
        Shell::Fish => with_fish_names(&script, &named),
    };
    out.write_all(text.as_bytes())
}

/// `project-names`: the valid project names of the config directory, one a line.
pub(crate) fn print_project_names(scope: Scope) -> crate::error::Result<()> {
    let names = config::project_names(scope);
    crate::output::to_stdout(|out| names.iter().try_for_each(|n| writeln!(out, "{n}")))
}

/// Which subcommands take project names, and the spelling of every option that takes a value
/// (so that the word after one is not taken for a name).
struct NamedCommands {
    /// Subcommands with one NAME.
    one: Vec<String>,
    /// Subcommands with any number of NAMEs.
    many: Vec<String>,
    /// `-x` and `--long` of every option that takes a value, in any subcommand.
    valued: BTreeSet<String>,
}

impl NamedCommands {
    fn of_cli() -> Self {
        let mut cli = Cli::command();
        cli.build();
        let mut named = Self {
            one: Vec::new(),
            many: Vec::new(),
            valued: BTreeSet::new(),
        };
        named.add_valued(&cli);
        for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
            named.add_valued(sub);
            let name_arg = sub
                .get_positionals()
                .find(|a| a.get_value_names().is_some_and(|v| v == ["NAME"]));
            match name_arg.map(clap::Arg::get_action) {
                Some(ArgAction::Append) => named.many.push(sub.get_name().to_string()),
                Some(_) => named.one.push(sub.get_name().to_string()),
                None => {}
            }
        }
        named
    }

    fn add_valued(&mut self, command: &clap::Command) {
        for arg in command.get_opts() {
            self.valued.extend(arg.get_short().map(|c| format!("-{c}")));
            self.valued.extend(arg.get_long().map(|l| format!("--{l}")));
        }
    }
}

/// The bash function clap writes, and the one that wraps it.
const BASH_CLAP_FN: &str = "_agent__runner";

/// clap's bash script, registered through a wrapper that offers the project names where a NAME
/// goes (and nothing else there: clap would offer the options).
fn with_bash_names(script: &str, named: &NamedCommands) -> String {
    let words = |list: &[String]| list.join("|");
    // --host and --config end the search for names before this list is looked at.
    let valued: Vec<&str> = named
        .valued
        .iter()
        .map(String::as_str)
        .filter(|o| !["-H", "--host", "-c", "--config"].contains(o))
        .collect();
    let wrapper = format!(
        r#"
# Project names for the NAME arguments, from `agent-runner [--user] project-names`.
_agent_runner_project_names() {{
    local i word sub="" user="" given=0 skip=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        if [[ $word == "=" ]]; then
            skip=1
            continue
        fi
        if ((skip)); then
            skip=0
            continue
        fi
        case $word in
            --user) user=--user ;;
            -H | --host | --host=* | -c | --config | --config=*) return 1 ;;
            {valued}) skip=1 ;;
            -*) ;;
            *) if [[ -z $sub ]]; then sub=$word; else given=$((given + 1)); fi ;;
        esac
    done
    ((skip)) && return 1
    case $sub in
        {one}) ((given == 0)) || return 1 ;;
        {many}) ;;
        *) return 1 ;;
    esac
    "${{COMP_WORDS[0]}}" ${{user:+"$user"}} project-names 2>/dev/null
}}

_agent_runner() {{
    {BASH_CLAP_FN} "$@"
    local cur=${{COMP_WORDS[COMP_CWORD]}} names
    [[ $cur == -* ]] && return 0
    names=$(_agent_runner_project_names) || return 0
    mapfile -t COMPREPLY < <(compgen -W "$names" -- "$cur")
}}
"#,
        valued = valued.join(" | "),
        one = words(&named.one),
        many = words(&named.many),
    );
    // clap_complete 4.6 names the case labels of a hyphenated binary's subcommands
    // `agent__subcmd__runner__subcmd__X` but sets `cmd` to `agent__runner__subcmd__X`, so no
    // option of any subcommand completed: the labels are put back to what `cmd` holds.
    let registered = script
        .replace("agent__subcmd__runner", "agent__runner")
        .replace(
            &format!("complete -F {BASH_CLAP_FN} "),
            "complete -F _agent_runner ",
        );
    format!("{registered}{wrapper}")
}

/// clap's zsh script with the NAME arguments completed by `_agent_runner_projects`.
fn with_zsh_names(script: &str) -> String {
    const FUNCTION: &str = r#"# Project names for the NAME arguments, from `agent-runner [--user] project-names`.
# The whole line: inside a subcommand `words` starts at the subcommand, and `--user` may be
# before it. The binary is named, not taken from the line, which may start with `sudo`.
_agent_runner_projects() {
    local -a names user line
    line=(${(z)BUFFER})
    (( ${line[(I)-H|--host|--host=*|-c|--config|--config=*]} )) && return 1
    (( ${line[(I)--user]} )) && user=(--user)
    names=(${(f)"$(agent-runner $user project-names 2>/dev/null)"})
    compadd -a names
}

"#;
    let mut text = String::new();
    for line in script.lines() {
        let is_name = line.starts_with("'::name -- ") || line.starts_with("'*::names -- ");
        match line.strip_suffix(":_default' \\") {
            Some(spec) if is_name => {
                text.push_str(spec);
                text.push_str(":_agent_runner_projects' \\");
            }
            _ => {
                if line.starts_with("if [ \"$funcstack[1]\" = \"_agent-runner\" ]") {
                    text.push_str(FUNCTION);
                }
                text.push_str(line);
            }
        }
        text.push('\n');
    }
    text
}

/// clap's fish script and one `complete` line per subcommand that takes NAMEs.
fn with_fish_names(script: &str, named: &NamedCommands) -> String {
    let mut text = script.to_string();
    text.push_str(
        r"
# Project names for the NAME arguments, from `agent-runner [--user] project-names`.
function __fish_agent_runner_projects
    set -l words (commandline -opc)
    for word in $words
        switch $word
            case -H --host '--host=*' -c --config '--config=*'
                return 1
        end
    end
    # The binary is named, not taken from the line, which may start with `sudo`.
    if contains -- --user $words
        agent-runner --user project-names 2>/dev/null
    else
        agent-runner project-names 2>/dev/null
    end
end
",
    );
    for sub in named.one.iter().chain(&named.many) {
        let _ = writeln!(
            text,
            "complete -c agent-runner -n \"__fish_agent_runner_using_subcommand {sub}\" -f -a \"(__fish_agent_runner_projects)\""
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scripts the package installs, as committed.
    const COMMITTED: [(Shell, &str, &str); 3] = [
        (
            Shell::Bash,
            "agent-runner.bash",
            include_str!("../../packaging/completions/agent-runner.bash"),
        ),
        (
            Shell::Zsh,
            "agent-runner.zsh",
            include_str!("../../packaging/completions/agent-runner.zsh"),
        ),
        (
            Shell::Fish,
            "agent-runner.fish",
            include_str!("../../packaging/completions/agent-runner.fish"),
        ),
    ];

    #[test]
    fn committed_scripts_are_the_generated_ones() {
        for (shell, file, committed) in COMMITTED {
            let mut generated = Vec::new();
            generate(shell, &mut generated).unwrap();
            assert!(
                committed.as_bytes() == generated,
                "packaging/completions/{file} is out of date with the command line; regenerate it with\n  packaging/generate-assets.sh"
            );
        }
    }

    #[test]
    fn every_shell_asks_for_names_where_a_name_goes() {
        let named = NamedCommands::of_cli();
        for sub in ["status", "logs", "start", "diagnose", "check"] {
            assert!(named.one.contains(&sub.to_string()), "{sub}");
        }
        assert_eq!(named.many, ["generate"]);
        // An option is either valued or not, whichever subcommand has it.
        for flag in ["-f", "--follow", "--json", "--user", "--now"] {
            assert!(!named.valued.contains(flag), "{flag}");
        }
        for (shell, _, _) in COMMITTED {
            let mut script = Vec::new();
            generate(shell, &mut script).unwrap();
            let script = String::from_utf8(script).unwrap();
            assert!(script.contains("project-names"), "{shell:?}");
        }
        let mut zsh = Vec::new();
        generate(Shell::Zsh, &mut zsh).unwrap();
        let zsh = String::from_utf8(zsh).unwrap();
        assert!(!zsh.contains("'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_default'"));
        assert!(zsh.contains("'*::names -- Projects to render; all projects in the config directory when omitted:_agent_runner_projects'"));
    }
}
