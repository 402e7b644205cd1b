//! A project file loaded end to end: defaults, path resolution, and every problem at once.

use std::path::{Path, PathBuf};

use crate::config::load::load_str;
use crate::config::model::{
    DirtyAction, OutputFormat, Project, PromptDelivery, StopSignal, TransientAction,
};
use crate::error::{Error, Result};
use crate::paths::Scope;

fn load(text: &str) -> Result<Project> {
    load_str(
        text,
        Path::new("/etc/agent-runner/demo.toml"),
        Scope::System,
    )
}

const MINIMAL: &str = r#"
schema_version = 1
[agent]
command = ["/usr/bin/agent"]
[runtime]
work_dir = "/srv/demo"
[prompt]
files = ["prompts/main.md"]
"#;

#[test]
fn minimal_config_gets_documented_defaults() {
    let p = load(MINIMAL).unwrap();
    assert_eq!(p.name, "demo");
    assert_eq!(p.runtime.restart_delay_s, 3);
    assert_eq!(p.runtime.round_timeout_s, 1800);
    assert_eq!(p.runtime.checkin_timeout_s, 30);
    assert_eq!(p.runtime.checkin_attempts, 3);
    assert_eq!(p.runtime.round_log_retention, 100);
    assert_eq!(p.runtime.crash_loop_threshold, 5);
    assert_eq!(p.runtime.short_crash_s, 60);
    assert_eq!(p.runtime.auth_fail_halt_after, 2);
    assert_eq!(p.runtime.transient_error_action, TransientAction::BackOff);
    assert_eq!(p.runtime.watchdog_s, None);
    assert_eq!(p.runtime.max_grace_after_result_s, None);
    assert_eq!(p.agent.prompt_delivery, PromptDelivery::Stdin);
    assert_eq!(p.agent.stop_signal, StopSignal::Term);
    assert_eq!(p.vcs.dirty_action, DirtyAction::Ignore);
    assert_eq!(p.prompt.concat_separator, "\n\n");
    assert_eq!(
        p.runtime.log_dir,
        PathBuf::from("/var/log/agent-runner/demo")
    );
    assert!(!p.runtime.log_dir_explicit);
}

#[test]
fn relative_paths_resolve_against_work_dir_and_project_expands() {
    let text = MINIMAL.replace(
        "[runtime]\n",
        "[runtime]\nlog_dir = \"logs/{project}\"\nstop_file = \"../{project}.stop\"\n",
    );
    let p = load(&text).unwrap();
    assert_eq!(
        p.prompt.files,
        vec![PathBuf::from("/srv/demo/prompts/main.md")]
    );
    assert_eq!(p.runtime.log_dir, PathBuf::from("/srv/demo/logs/demo"));
    assert_eq!(p.runtime.stop_file, Some(PathBuf::from("/srv/demo.stop")));
    assert!(p.runtime.log_dir_explicit);
}

#[test]
fn relative_work_dir_resolves_against_the_toml_directory_and_tilde_expands() {
    let text = MINIMAL.replace(
        "work_dir = \"/srv/demo\"",
        "work_dir = \"repo\"\nnarrative_file = \"~/notes.md\"",
    );
    let p = load(&text).unwrap();
    assert_eq!(p.runtime.work_dir, PathBuf::from("/etc/agent-runner/repo"));
    assert!(p.runtime.narrative_file.unwrap().ends_with("notes.md"));
}

#[test]
fn name_key_overrides_the_file_stem() {
    let p = load(&MINIMAL.replace(
        "schema_version = 1",
        "schema_version = 1\nname = \"other.proj_1\"",
    ))
    .unwrap();
    assert_eq!(p.name, "other.proj_1");
}

#[test]
fn preset_supplies_agent_defaults() {
    let text = MINIMAL.replace("command = [\"/usr/bin/agent\"]", "preset = \"claude\"");
    let p = load(&text).unwrap();
    assert_eq!(p.agent.command[0], "claude");
    assert_eq!(p.agent.stop_signal, StopSignal::Int);
    assert_eq!(
        p.agent.terminal_marker.as_deref(),
        Some("\"type\":\"result\"")
    );
    assert_eq!(
        p.agent.env.get("DISABLE_AUTOUPDATER").map(String::as_str),
        Some("1")
    );
    assert_eq!(p.runtime.grace_kill_ignore_patterns.len(), 1);
    assert_eq!(p.agent.output_format, OutputFormat::ClaudeStreamJson);
}

#[test]
fn empty_terminal_marker_disables_it() {
    let text = MINIMAL.replace(
        "[agent]\n",
        "[agent]\npreset = \"claude\"\nterminal_marker = \"\"\n",
    );
    assert_eq!(load(&text).unwrap().agent.terminal_marker, None);
}

#[test]
fn phases_rotate_and_inherit() {
    let text = format!(
        "{MINIMAL}\n[phases]\nlist = [\"build\", \"review\"]\n[phases.review]\nround_timeout_s = 120\nprompt.files = [\"prompts/review.md\"]\n"
    );
    let p = load(&text).unwrap();
    assert_eq!(p.phase_for_round(1).unwrap().name, "build");
    assert_eq!(p.phase_for_round(2).unwrap().name, "review");
    assert_eq!(p.phase_for_round(3).unwrap().name, "build");
    assert_eq!(p.phases[0].round_timeout_s, 1800);
    assert_eq!(p.phases[0].prompt.files, p.prompt.files);
    assert_eq!(p.phases[1].round_timeout_s, 120);
    assert_eq!(
        p.phases[1].prompt.files,
        vec![PathBuf::from("/srv/demo/prompts/review.md")]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = MINIMAL.replace(
        "[runtime]\n",
        "[runtime]\nround_timeout_s = 0\nrestart_delay_s = -1\n",
    );
    let Err(Error::Config(problems)) = load(&text) else {
        panic!("expected config errors")
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().all(|p| p.position.is_some()));
}

#[test]
fn checkin_must_fit_in_the_shortest_round() {
    let short = MINIMAL.replace("[runtime]\n", "[runtime]\nround_timeout_s = 10\n");
    assert_eq!(
        load(&short).unwrap().runtime.checkin_timeout_s,
        30,
        "the default is not an error"
    );
    let phased = format!(
        "{}\n[phases]\nlist = [\"a\"]\n[phases.a]\nround_timeout_s = 20\n",
        MINIMAL.replace("[runtime]\n", "[runtime]\ncheckin_timeout_s = 25\n")
    );
    let Err(Error::Config(problems)) = load(&phased) else {
        panic!("expected an error")
    };
    assert!(
        problems[0]
            .message
            .contains("phases.a.round_timeout_s (20)"),
        "{problems:?}"
    );
}

#[test]
fn loading_checks_only_the_characters_of_a_schedule() {
    // Rounds and the generator load configs: no systemd-analyze process for them.
    let text = MINIMAL.replace("[runtime]\n", "[runtime]\nschedule = \"every tuesday\"\n");
    assert_eq!(
        load(&text).unwrap().runtime.schedule.as_deref(),
        Some("every tuesday")
    );
    let text = MINIMAL.replace("[runtime]\n", "[runtime]\nschedule = \"daily; rm\"\n");
    assert!(load(&text).is_err());
}

#[test]
fn unknown_keys_are_all_reported_with_positions() {
    let text = MINIMAL.replace("[runtime]\n", "[runtime]\nfoo = 1\nbar = 2\n");
    let Err(Error::Config(problems)) = load(&text) else {
        panic!("expected config errors")
    };
    let positions: Vec<_> = problems.iter().map(|p| p.position.unwrap().0).collect();
    assert_eq!(positions.len(), 2);
    assert_ne!(positions[0], positions[1]);
}

#[test]
fn the_limits_are_documented() {
    use crate::config::problems::MAX_LISTED;
    use crate::config::read::MAX_FILE_BYTES;
    let page = include_str!("../../../man/agent-runner.toml.5");
    for fact in [
        format!("at most 1 MiB ({MAX_FILE_BYTES} bytes)"),
        format!("the first {MAX_LISTED} problems"),
        format!("at most {} phases", super::phases::MAX_PHASES),
        format!("at most {} files", super::prompt::MAX_PROMPT_FILES),
        format!("at most {} patterns", super::runtime::MAX_IGNORE_PATTERNS),
        format!("at most {} paths", super::state::MAX_STATE_PATHS),
    ] {
        assert!(page.contains(&fact), "agent-runner.toml(5) lacks {fact:?}");
    }
}

#[test]
fn a_command_without_preset_gets_the_defaults_of_the_cli_it_runs() {
    let claude = MINIMAL.replace(
        "[\"/usr/bin/agent\"]",
        "[\"/usr/local/bin/claude\", \"-p\", \"--output-format\", \"stream-json\"]",
    );
    let p = load(&claude).unwrap();
    assert_eq!(p.agent.inferred_preset.as_deref(), Some("claude"));
    assert_eq!(p.agent.preset, None);
    assert_eq!(p.agent.stop_signal, StopSignal::Int);
    assert_eq!(
        p.agent.terminal_marker.as_deref(),
        Some("\"type\":\"result\"")
    );
    assert_eq!(p.agent.output_format, OutputFormat::ClaudeStreamJson);
    assert_eq!(p.agent.state_paths, [PathBuf::from(".claude")]);
    assert_eq!(
        p.agent.config_dir_env.as_ref().map(|e| e.var.as_str()),
        Some("CLAUDE_CONFIG_DIR")
    );
    assert_eq!(p.runtime.grace_kill_ignore_patterns.len(), 1);
    // Only the output the command asks for is read as the preset's: plain `claude -p` is text.
    let text_claude = MINIMAL.replace("[\"/usr/bin/agent\"]", "[\"claude\", \"-p\"]");
    let p = load(&text_claude).unwrap();
    assert_eq!(p.agent.stop_signal, StopSignal::Int);
    assert_eq!(p.agent.terminal_marker, None);
    assert_eq!(p.agent.output_format, OutputFormat::Text);
    assert!(
        p.agent.env.is_empty(),
        "no other default: {:?}",
        p.agent.env
    );
    // What the file says wins.
    let own = claude.replace(
        "[agent]\n",
        "[agent]\nstop_signal = \"SIGTERM\"\nterminal_marker = \"\"\nstate_paths = []\n",
    );
    let p = load(&own).unwrap();
    assert_eq!(p.agent.stop_signal, StopSignal::Term);
    assert_eq!(p.agent.terminal_marker, None);
    assert!(p.agent.state_paths.is_empty());
    assert!(p.agent.config_dir_env.is_none());
    // Opting out with the generic preset.
    let shell = claude.replace("[agent]\n", "[agent]\npreset = \"shell\"\n");
    let p = load(&shell).unwrap();
    assert_eq!(p.agent.inferred_preset, None);
    assert_eq!(p.agent.stop_signal, StopSignal::Term);
    assert_eq!(p.agent.output_format, OutputFormat::Text);
    assert!(p.agent.state_paths.is_empty());
    // Any other program gets nothing.
    let p = load(MINIMAL).unwrap();
    assert_eq!(p.agent.inferred_preset, None);
    assert_eq!(p.agent.stop_signal, StopSignal::Term);
    assert!(p.agent.state_paths.is_empty());
}

#[test]
fn state_paths_are_normalised_and_replace_the_presets() {
    let text = MINIMAL.replace(
        "[agent]\ncommand = [\"/usr/bin/agent\"]",
        "[agent]\npreset = \"claude\"\nstate_paths = [\"./.claude/\", \".claude\", \".config//gh\"]",
    );
    let p = load(&text).unwrap();
    assert_eq!(
        p.agent.state_paths,
        [PathBuf::from(".claude"), PathBuf::from(".config/gh")]
    );
    assert!(p.agent.config_dir_env.is_some());
    // The variable names a directory the units make writable, or it is not set.
    let elsewhere = text.replace("\"./.claude/\", \".claude\", ", "");
    assert!(load(&elsewhere).unwrap().agent.config_dir_env.is_none());
    // The file's own value of the variable wins.
    let own_env = text.replace(
        "[runtime]",
        "[agent.env]\nCLAUDE_CONFIG_DIR = \"/srv/claude\"\n[runtime]",
    );
    assert!(load(&own_env).unwrap().agent.config_dir_env.is_none());
}

#[test]
#[allow(
    clippy::float_cmp,
    reason = "the values are parsed from exact literals"
)]
fn budget_pricing_and_account_are_checked_with_positions() {
    let good = format!(
        "{MINIMAL}[budget]\ndaily_usd = 20\nmonthly_usd = 300.5\ndaily_tokens = 5000000\n\
         loop_usd = 50\nrounds_per_hour = 6\ntimezone = \"Europe/Berlin\"\nspike_action = \"halt\"\n\
         [pricing.\"claude-sonnet-4-5\"]\ninput_per_mtok = 3\noutput_per_mtok = 15.0\n"
    )
    .replace("[agent]\n", "[agent]\naccount = \"team-max\"\n");
    let p = load(&good).unwrap();
    assert_eq!(p.budget.daily_usd, Some(20.0));
    assert_eq!(p.budget.rounds_per_hour, Some(6));
    assert_eq!(p.budget.overshoot_pct, 10.0);
    assert_eq!(p.budget.spike_factor, 5.0);
    assert_eq!(p.pricing["claude-sonnet-4-5"].output, 15.0);
    assert_eq!(p.agent.account.as_deref(), Some("team-max"));
    assert!(load(MINIMAL).unwrap().budget == crate::config::spend::Budget::default());

    let bad = format!(
        "{MINIMAL}[budget]\ndaily_usd = -1\nmonthly_usd = nan\ndaily_tokens = 0\n\
         rounds_per_hour = 99999\ntimezone = \"../../etc/passwd\"\novershoot_pct = -5\n\
         spike_factor = 0.5\nspike_action = \"panic\"\n\
         [pricing.m]\ninput_per_mtok = 3\n[pricing.n]\ninput_per_mtok = 1\noutput_per_mtok = inf\n"
    )
    .replace("[agent]\n", "[agent]\naccount = \"../x\"\n");
    let Err(Error::Config(problems)) = load(&bad) else {
        panic!("expected config errors")
    };
    let text: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
    for expected in [
        "invalid account name \"../x\"",
        "must be an amount in USD above 0 and below 1000000, got -1",
        "got NaN",
        "must be a count from 1 to 1125899906842624, got 0",
        "must be a count from 1 to 3600, got 99999",
        "unknown time zone \"../../etc/passwd\": not an IANA zone name",
        "must be a percentage from 0 to 1000, got -5",
        "must be a factor above 1 and at most 1000, got 0.5",
        "\"panic\" is not one of \"alert\", \"halt\"",
        "[pricing.m] needs both input_per_mtok and output_per_mtok",
        "must be USD per million tokens from 0 to 10000, got inf",
    ] {
        assert!(
            text.iter().any(|t| t.contains(expected)),
            "{expected:?} not in {text:#?}"
        );
    }
    assert_eq!(problems.len(), 11, "{text:#?}");
    assert!(
        problems.iter().all(|p| p.position.is_some()),
        "{problems:?}"
    );
    let unknown_zone = format!("{MINIMAL}[budget]\ntimezone = \"Mars/Olympus_Mons\"\n");
    let Err(Error::Config(problems)) = load(&unknown_zone) else {
        panic!("an unknown zone is an error")
    };
    assert!(problems[0].message.contains("no such zone"), "{problems:?}");
    let typo = format!("{MINIMAL}[budget]\ndaily_usdd = 1\n");
    let Err(Error::Config(problems)) = load(&typo) else {
        panic!("an unknown key is an error")
    };
    assert_eq!(
        problems[0].hint.as_deref(),
        Some("did you mean `daily_usd`?")
    );
}

#[test]
fn alert_thresholds_default_and_bad_ones_are_named() {
    let p = load(MINIMAL).unwrap();
    assert_eq!(p.alerts, crate::config::model::Alerts::default());
    assert_eq!(
        (p.alerts.disk_warn_percent, p.alerts.disk_halt_percent),
        (90, 95)
    );
    let text = format!("{MINIMAL}[alerts]\ndisk_warn_percent = 80\nwindow_rounds = 20\n");
    let p = load(&text).unwrap();
    assert_eq!(
        (p.alerts.disk_warn_percent, p.alerts.window_rounds),
        (80, 20)
    );
    let text = format!(
        "{MINIMAL}[alerts]\ntimeout_percent = 0\ndisk_halt_percent = 101\nwindow_rounds = 1000\ndisk_warn_percent = 96\n"
    );
    let Err(Error::Config(problems)) = load(&text) else {
        panic!("expected config errors")
    };
    let messages: Vec<_> = problems
        .iter()
        .map(|p| format!("{}: {}", p.key.as_deref().unwrap_or("?"), p.message))
        .collect();
    let all = messages.join("\n");
    for expected in [
        "alerts.timeout_percent: must be a percentage from 1 to 100, got 0",
        "alerts.disk_halt_percent: must be a percentage from 1 to 100, got 101",
        "alerts.window_rounds: must be a count from 1 to 100, got 1000",
        "alerts.disk_warn_percent: disk_warn_percent (96) must be below disk_halt_percent (95)",
    ] {
        assert!(all.contains(expected), "{expected} not in:\n{all}");
    }
    let text = format!("{MINIMAL}[alerts]\nstale_factr = 3\n");
    let Err(Error::Config(problems)) = load(&text) else {
        panic!("expected config errors")
    };
    assert!(
        problems[0]
            .message
            .contains("unknown key `stale_factr` in [alerts]")
    );
}

/// A minimal valid project (a system one, at /etc/agent-runner/demo.toml) followed by `tail`,
/// loaded: the problems as `check` prints them.
pub(super) fn load_minimal_with(tail: &str) -> Result<Project, String> {
    const MINIMAL: &str = "schema_version = 1\n[agent]\ncommand = [\"/usr/bin/agent\"]\n[runtime]\nwork_dir = \"/srv/demo\"\n[prompt]\nfiles = [\"p.md\"]\n";
    crate::config::load::load_str(
        &format!("{MINIMAL}{tail}"),
        std::path::Path::new("/etc/agent-runner/demo.toml"),
        Scope::System,
    )
    .map_err(|e| e.to_string())
}

#[test]
fn schedule_windows_are_checked_with_positions() {
    let good = format!(
        "{MINIMAL}[schedule]\nrun_windows = [\"mon-fri 08:00-20:00\", \"sat 22:00-24:00\"]\n\
         pause_windows = [\"12:00-13:00\"]\ntimezone = \"UTC\"\n"
    );
    let p = load(&good).unwrap();
    assert_eq!(p.schedule.run_windows.len(), 2);
    assert_eq!(p.schedule.pause_windows.len(), 1);
    assert_eq!(p.schedule.timezone.as_deref(), Some("UTC"));
    assert!(!load(MINIMAL).unwrap().schedule.has_windows());

    let bad = format!(
        "{MINIMAL}[schedule]\nrun_windows = [\"mon-fri 08:00-20:00\", \"24:00-06:00\"]\n\
         pause_windows = [\"someday 12:00-13:00\"]\ntimezone = \"Mars/Olympus_Mons\"\n"
    );
    let Err(Error::Config(problems)) = load(&bad) else {
        panic!("expected config errors")
    };
    let text: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
    for expected in [
        "bad window \"24:00-06:00\": 24:00 is allowed only as the end of a window",
        "bad window \"someday 12:00-13:00\": unknown day \"someday\"",
        "unknown time zone \"Mars/Olympus_Mons\"",
    ] {
        assert!(
            text.iter().any(|t| t.contains(expected)),
            "{expected:?} not in {text:#?}"
        );
    }
    assert_eq!(problems.len(), 3, "{text:#?}");
    assert!(
        problems.iter().all(|p| p.position.is_some()),
        "{problems:?}"
    );
    let typo = format!("{MINIMAL}[schedule]\nrun_window = []\n");
    let Err(Error::Config(problems)) = load(&typo) else {
        panic!("an unknown key is an error")
    };
    assert_eq!(
        problems[0].hint.as_deref(),
        Some("did you mean `run_windows`?")
    );
}
