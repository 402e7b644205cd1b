//! agent-runner(1), generated from the clap definition so that it cannot drift from `--help`.
//! The package installs man/agent-runner.1, committed so that `cargo deb` needs nothing run
//! before it; a test keeps it equal to what `agent-runner man` writes.
//!
//! clap_mangen renders the top-level page; every visible subcommand then gets its own `.SS`
//! subsection (synopsis, description, options) inside COMMANDS, so one page documents every
//! command and flag. Sections 5 and 7 are prose and live hand-written in man/.

use std::path::Path;

use clap::CommandFactory;
use clap_mangen::Man;

use crate::cli::args::Cli;
use crate::error::Result;
use crate::fsutil;

/// The file name of the section-1 page.
pub(crate) const PAGE_NAME: &str = "agent-runner.1";

const MANUAL: &str = "agent-runner manual";

const DESCRIPTION: &str = r".SH DESCRIPTION
\fBagent\-runner\fR keeps an autonomous command\-line coding agent (claude, codex, gemini, aider,
kimi, pi, qwen, or any command) working unattended, round after round, with systemd doing the supervising.
.PP
A project is one TOML file (see \fBagent\-runner.toml\fR(5)).
\fBagent\-runner generate\fR renders it into drop\-ins for the template units
\fBagent\-runner@.service\fR, \fB.timer\fR and \fB.path\fR (see \fBagent\-runner.units\fR(7)).
Each activation of the service runs exactly one round (\fBagent\-runner round\fR), and the timer
schedules the next one.
The lifecycle commands talk to systemd over D\-Bus; nothing of agent\-runner stays resident
between rounds.
";

const EXAMPLES: &str = r".SH EXAMPLES
A first project as root, with the example agent of the shell preset (for the calling user's own
manager: \fB\-\-user\fR after \fBagent\-runner\fR, with ~/research and ~/.config/agent\-runner):
.PP
.nf
git init /srv/research && cd /srv/research
agent\-runner init \-\-preset shell research
editor /etc/agent\-runner/prompts/research/main.md
agent\-runner check research
agent\-runner generate
agent\-runner start research
agent\-runner status
agent\-runner events research \-\-follow
agent\-runner stop research
agent\-runner import ~/old/agent\-runner.toml \-\-name old
.fi
";

const TRAILER: &str = r".SH ENVIRONMENT
.TP
\fBAGENT_RUNNER_CONFIG_DIR\fR
Read project files from this directory instead of /etc/agent\-runner or
~/.config/agent\-runner.
.TP
\fBAGENT_RUNNER_UNIT_DIR\fR
Make \fBgenerate\fR write units into this directory instead of /etc/systemd/system or
~/.config/systemd/user.
.TP
\fBAGENT_RUNNER_STATE_DIR\fR
The state directory of \fBround\fR and \fBhalt\fR (default: $STATE_DIRECTORY under systemd).
.TP
\fBNO_COLOR\fR
Set to anything but the empty string, no colour with \fB\-\-color auto\fR (the default), even on a
terminal; \fB\-\-color always\fR still colours.
.SH FILES
.TP
\fI/etc/agent\-runner/NAME.toml\fR, \fI~/.config/agent\-runner/NAME.toml\fR
Project files of the system and the user manager.
.TP
\fI/etc/systemd/system/agent\-runner*@NAME.*.d/50\-agent\-runner.conf\fR
Drop\-ins written by \fBgenerate\fR (\fI~/.config/systemd/user/\fR with \fB\-\-user\fR).
.TP
\fI/usr/lib/systemd/system/agent\-runner@.service\fR and siblings
The packaged template units (\fI/usr/lib/systemd/user/\fR for the user manager).
.TP
\fI/usr/lib/systemd/system\-generators/agent\-runner\-generator\fR
The generator that renders every project file at boot and on daemon\-reload.
.TP
\fI/var/lib/agent\-runner/NAME/\fR
State: round counter, verdicts, halt requests.
.TP
\fI/var/log/agent\-runner/NAME/\fR
Round logs and events.jsonl, unless log_dir says otherwise.
.SH SEE ALSO
\fBagent\-runner.toml\fR(5),
\fBagent\-runner.units\fR(7),
\fBsystemctl\fR(1),
\fBjournalctl\fR(1),
\fBsystemd.service\fR(5),
\fBsystemd.generator\fR(7)
";

/// The complete roff source of agent-runner(1).
pub(crate) fn page() -> String {
    let mut cmd = Cli::command();
    cmd.build();
    let man = Man::new(cmd.clone())
        .title("AGENT-RUNNER")
        .manual(MANUAL)
        .source(format!("agent-runner {}", env!("CARGO_PKG_VERSION")));
    let mut out = String::new();
    section(&mut out, |w| man.render_title(w));
    // Identifiers (config keys, paths, flags) must not be hyphenated at line ends, and long ones
    // read better left-aligned than stretched.
    out.push_str(".nh\n.ad l\n");
    section(&mut out, |w| man.render_name_section(w));
    section(&mut out, |w| man.render_synopsis_section(w));
    out.push_str(DESCRIPTION);
    section(&mut out, |w| man.render_options_section(w));
    out.push_str(".SH COMMANDS\n");
    let globals: Vec<String> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().to_string())
        .collect();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        out.push_str(".SS \"agent\\-runner ");
        out.push_str(sub.get_name());
        out.push_str("\"\n");
        // Global flags are documented once, under OPTIONS; repeating them per command is noise.
        let mut sub = sub.clone();
        for global in globals.iter().map(String::as_str).chain(["help"]) {
            if sub.get_arguments().any(|a| a.get_id() == global) {
                sub = sub.mut_arg(global, |a| a.hide(true));
            }
        }
        let sub_man = Man::new(sub);
        let mut body = String::new();
        section(&mut body, |w| sub_man.render_synopsis_section(w));
        section(&mut body, |w| sub_man.render_description_section(w));
        section(&mut body, |w| sub_man.render_options_section(w));
        // The subcommand's own section headings become paragraph breaks inside its subsection.
        let mut first = true;
        for line in body.lines() {
            if line.starts_with(".SH ") {
                if !first {
                    out.push_str(".PP\n");
                }
                first = false;
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(EXAMPLES);
    out.push_str(&exit_status_section());
    out.push_str(TRAILER);
    // Tidy: every rendered piece repeats roff's two-line apostrophe prelude (keep the first), and
    // an empty line is a blank output line to groff.
    let mut tidy = String::with_capacity(out.len());
    let mut prelude_seen = 0;
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        if line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq") {
            prelude_seen += 1;
            if prelude_seen > 2 {
                continue;
            }
        }
        tidy.push_str(line);
        tidy.push('\n');
    }
    tidy
}

/// EXIT STATUS, from the table `--help` summarises, so neither can miss a status.
fn exit_status_section() -> String {
    use std::fmt::Write as _;
    let mut out = String::from(".SH EXIT STATUS\n");
    for meaning in crate::error::exit::MEANINGS {
        let detail = meaning.detail.replace('-', "\\-");
        // Writing into a String cannot fail.
        let _ = write!(out, ".TP\n\\fB{}\\fR\n{detail}\n", meaning.code);
    }
    out
}

fn section(out: &mut String, render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) {
    let mut buf = Vec::new();
    // Rendering into a Vec cannot fail.
    let _ = render(&mut buf);
    out.push_str(&String::from_utf8_lossy(&buf));
}

/// Writes agent-runner(1) into `dir`.
pub(crate) fn write(dir: &Path) -> Result<()> {
    fsutil::create_dir_all(dir)?;
    let path = dir.join(PAGE_NAME);
    fsutil::write_atomic(&path, page().as_bytes(), 0o644)?;
    crate::output::line(format_args!("{}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_every_visible_command_and_flag() {
        let page = page();
        let cmd = Cli::command();
        let mut missing = Vec::new();
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let heading = format!(".SS \"agent\\-runner {}\"", sub.get_name());
            if !page.contains(&heading) {
                missing.push(heading);
            }
            for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
                if let Some(long) = arg.get_long() {
                    let flag = format!("\\-\\-{}", long.replace('-', "\\-"));
                    if !page.contains(&flag) {
                        missing.push(format!("{} {flag}", sub.get_name()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "not in agent-runner(1): {missing:?}");
        assert!(!page.contains("\\-\\-catalog") && !page.contains("agent\\-runner halt\""));
    }

    #[test]
    fn committed_page_is_the_generated_one() {
        let committed = include_str!("../../man/agent-runner.1");
        assert!(
            committed == page(),
            "man/agent-runner.1 is out of date with the command line; regenerate it with\n  packaging/generate-assets.sh"
        );
    }

    /// Every exit status the binary has: the constants of `error::exit`, read from its source so
    /// that a new one cannot be added without the pages below naming it.
    fn every_exit_status() -> Vec<u8> {
        let source = include_str!("../error.rs");
        let module = source
            .split_once("mod exit {")
            .and_then(|(_, rest)| rest.split_once("\n}"))
            .map(|(body, _)| body)
            .expect("error.rs has a `mod exit`");
        let codes: Vec<u8> = module
            .lines()
            .filter_map(|l| l.trim().strip_prefix("pub(crate) const "))
            .filter_map(|l| l.split_once(": u8 = "))
            .map(|(_, v)| v.trim_end_matches(';').parse().expect("a u8 literal"))
            .collect();
        assert!(
            codes.contains(&crate::error::exit::OK) && codes.contains(&crate::error::exit::TIMEOUT),
            "error::exit not read: {codes:?}"
        );
        let explained: Vec<u8> = crate::error::exit::MEANINGS
            .iter()
            .map(|m| m.code)
            .collect();
        assert_eq!(
            codes, explained,
            "error::exit::MEANINGS: one entry per status, in order"
        );
        codes
    }

    #[test]
    fn page_documents_every_exit_status() {
        let page = page();
        for code in every_exit_status() {
            assert!(
                page.contains(&format!(".TP\n\\fB{code}\\fR\n")),
                "exit {code} not in agent-runner(1)"
            );
        }
    }

    #[test]
    fn page_is_plain_roff() {
        let page = page();
        assert_eq!(page.matches(".ds Aq").count(), 2, "one apostrophe prelude");
        assert_eq!(page.lines().nth(2).map(|l| &l[..4]), Some(".TH "));
        assert!(page.contains(".SH EXIT STATUS"));
        assert!(!page.lines().any(|l| l.trim().is_empty()));
    }

    /// Records the field names serde asks for, which are exactly the keys the TOML accepts.
    struct Fields(Vec<&'static str>);

    impl<'de> serde::Deserializer<'de> for &mut Fields {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("only structs"))
        }

        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.extend(fields);
            Err(serde::de::Error::custom("fields recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    fn keys_of<T: serde::de::DeserializeOwned>() -> Vec<&'static str> {
        let mut fields = Fields(Vec::new());
        let _ = T::deserialize(&mut fields);
        fields.0
    }

    #[test]
    fn toml_page_documents_every_key() {
        use crate::config::{
            RawAgent, RawAlerts, RawBudget, RawConfig, RawGoal, RawGoalCheck, RawHooks, RawLimits,
            RawNotify, RawPhase, RawPrice, RawProgress, RawPrompt, RawRuntime, RawSchedule, RawVcs,
        };
        let page = include_str!("../../man/agent-runner.toml.5");
        let mut keys = Vec::new();
        keys.extend(keys_of::<RawConfig>());
        keys.extend(keys_of::<RawAgent>());
        keys.extend(keys_of::<RawRuntime>());
        keys.extend(keys_of::<RawPrompt>());
        keys.extend(keys_of::<RawPhase>());
        keys.extend(keys_of::<RawVcs>());
        keys.extend(keys_of::<RawBudget>());
        keys.extend(keys_of::<RawPrice>());
        keys.extend(keys_of::<RawAlerts>());
        keys.extend(keys_of::<RawProgress>());
        keys.extend(keys_of::<RawGoal>());
        keys.extend(keys_of::<RawGoalCheck>());
        keys.extend(keys_of::<RawNotify>());
        keys.extend(keys_of::<RawLimits>());
        keys.extend(keys_of::<RawSchedule>());
        keys.extend(keys_of::<RawHooks>());
        assert!(keys.len() > 30, "{keys:?}");
        let missing: Vec<_> = keys
            .iter()
            .filter(|k| {
                !page.contains(&format!("\\fB{k}\\fR"))
                    && !page.contains(&format!(".SH [{k}]"))
                    && !page.contains(&format!(".SH [[goal.{k}]]"))
                    && !page.contains(&format!("\\fB[agent.{k}]\\fR"))
                    && !page.contains(&format!("\\fBprompt.{k}\\fR"))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "keys missing from agent-runner.toml(5): {missing:?}"
        );
        for preset in crate::config::presets::names() {
            assert!(
                page.contains(&format!("\\fI\"{preset}\"\\fR")),
                "preset {preset}"
            );
        }
    }

    #[test]
    fn units_page_names_every_template_and_exit_status() {
        use crate::error::exit;
        let page = include_str!("../../man/agent-runner.units.7");
        for unit in crate::units::Unit::TEMPLATES {
            let instance = unit.template().replace('@', "@NAME").replace('-', "\\-");
            assert!(
                page.contains(&instance),
                "{instance} not in agent-runner.units(7)"
            );
        }
        // The page lists what a round exits with; usage errors (2) and an unreachable systemd (69)
        // are the other commands' and are in agent-runner(1).
        let round_codes = [
            exit::OK,
            exit::FAILURE,
            exit::TEMPFAIL,
            exit::CONFIG,
            exit::TIMEOUT,
        ];
        let others = [exit::USAGE, exit::UNAVAILABLE];
        let mut all = round_codes.to_vec();
        all.extend(others);
        all.sort_unstable();
        let mut every = every_exit_status();
        every.sort_unstable();
        assert_eq!(all, every, "a new exit status: is it a round's?");
        for code in round_codes {
            assert!(
                page.contains(&format!(".TP\n\\fB{code}\\fR\n")),
                "exit {code}"
            );
        }
    }

    #[test]
    fn handwritten_pages_carry_this_version() {
        let th = format!("\"agent\\-runner {}\"", env!("CARGO_PKG_VERSION"));
        for page in [
            include_str!("../../man/agent-runner.toml.5"),
            include_str!("../../man/agent-runner.units.7"),
        ] {
            let first = page.lines().next().unwrap_or_default();
            assert!(first.starts_with(".TH ") && first.contains(&th), "{first}");
        }
    }
}
