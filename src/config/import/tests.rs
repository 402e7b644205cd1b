use std::path::Path;

use toml::Value;

use super::convert::{Converted, convert};
use super::report::Kind;
use super::runtime::KEEP_ALL_LOGS;
use crate::config::load::load_str;
use crate::paths::Scope;

/// The minimum the old runner needed, then `extra`.
fn old_file(extra: &str) -> String {
    format!(
        "schema_version = 1\n[agent]\ncommand = [\"my-agent\"]\nprompt_arg_template = [\"{{prompt}}\"]\n[runtime]\nwork_dir = \".\"\nlog_dir = \"~/.agent-runner/{{project}}/logs\"\n[prompt]\nfile = \"./prompts/main.md\"\n{extra}"
    )
}

fn import(text: &str) -> Converted {
    let root: toml::Table = text.parse().expect("test TOML");
    convert(
        &root,
        Path::new("/srv/old/research/agent-runner.toml"),
        Path::new("/home/op"),
        false,
    )
}

fn value<'c>(c: &'c Converted, path: &[&str], key: &str) -> Option<&'c Value> {
    c.doc.get(path, key)
}

fn str_value<'c>(c: &'c Converted, path: &[&str], key: &str) -> Option<&'c str> {
    value(c, path, key).and_then(Value::as_str)
}

fn kind_of(c: &Converted, old: &str) -> Option<Kind> {
    c.report
        .entries
        .iter()
        .find(|e| e.old == old)
        .map(|e| e.kind)
}

/// The converted file as agent-runner reads it.
fn loads(c: &Converted) -> crate::error::Result<crate::config::Project> {
    load_str(
        &c.doc.render(""),
        Path::new("/tmp/research.toml"),
        Scope::User,
    )
}

#[test]
fn transient_skip_is_called_ignore_and_the_legacy_name_is_read() {
    let c =
        import(&old_file("").replace("[prompt]", "transient_error_action = \"skip\"\n[prompt]"));
    assert_eq!(
        str_value(&c, &["runtime"], "transient_error_action"),
        Some("ignore")
    );
    let c = import(&old_file("").replace("[prompt]", "rate_limit_action = \"stop\"\n[prompt]"));
    assert_eq!(
        str_value(&c, &["runtime"], "transient_error_action"),
        Some("stop")
    );
    assert_eq!(kind_of(&c, "runtime.rate_limit_action"), Some(Kind::Mapped));
}

#[test]
fn auto_commit_is_called_commit_and_the_old_default_stash_is_written_out() {
    let c = import(&old_file("[vcs]\ndirty_action = \"auto_commit\"\n"));
    assert_eq!(str_value(&c, &["vcs"], "dirty_action"), Some("commit"));
    let c = import(&old_file("[vcs]\norphan_action = \"ignore\"\n"));
    assert_eq!(str_value(&c, &["vcs"], "dirty_action"), Some("ignore"));
    let c = import(&old_file(""));
    assert_eq!(str_value(&c, &["vcs"], "dirty_action"), Some("stash"));
    assert_eq!(kind_of(&c, "vcs.dirty_action"), Some(Kind::Default));
}

#[test]
fn project_placeholder_and_home_are_expanded_as_the_old_runner_did() {
    let c = import(&old_file(""));
    // {project} was the work_dir's basename, whatever the new project is called.
    assert_eq!(
        str_value(&c, &["runtime"], "log_dir"),
        Some("/home/op/.agent-runner/research/logs")
    );
    assert_eq!(
        str_value(&c, &["runtime"], "work_dir"),
        Some("/srv/old/research")
    );
    assert_eq!(c.old_project, "research");
}

#[test]
fn round_budget_becomes_round_timeout_everywhere() {
    let c = import(&old_file(
        "[phases]\nlist = [\"a\", \"b\"]\n[phases.a]\nround_budget_s = 60\n[phases.b.runtime]\nround_budget_s = 90\n",
    ).replace("[prompt]", "round_budget_s = 600\n[prompt]"));
    assert_eq!(
        value(&c, &["runtime"], "round_timeout_s"),
        Some(&Value::Integer(600))
    );
    assert_eq!(
        value(&c, &["phases", "a"], "round_timeout_s"),
        Some(&Value::Integer(60))
    );
    assert_eq!(
        value(&c, &["phases", "b"], "round_timeout_s"),
        Some(&Value::Integer(90))
    );
    let c = import(&old_file("").replace("[prompt]", "round_timeout_s = 700\n[prompt]"));
    assert_eq!(
        value(&c, &["runtime"], "round_timeout_s"),
        Some(&Value::Integer(700))
    );
}

#[test]
fn log_retention_zero_means_keep_every_log_and_is_the_default() {
    let keep_all = Some(Value::Integer(KEEP_ALL_LOGS));
    let c = import(&old_file(""));
    assert_eq!(
        value(&c, &["runtime"], "round_log_retention").cloned(),
        keep_all
    );
    let c = import(&old_file("").replace("[prompt]", "round_log_retention = 0\n[prompt]"));
    assert_eq!(
        value(&c, &["runtime"], "round_log_retention").cloned(),
        keep_all
    );
    let c = import(&old_file("").replace("[prompt]", "round_log_retention = 7\n[prompt]"));
    assert_eq!(
        value(&c, &["runtime"], "round_log_retention"),
        Some(&Value::Integer(7))
    );
}

#[test]
fn claude_keeps_sigint_and_argv_delivery_is_written_out() {
    let c = import(&old_file("").replace("\"my-agent\"", "\"/usr/bin/claude\", \"--verbose\""));
    assert_eq!(str_value(&c, &["agent"], "stop_signal"), Some("SIGINT"));
    assert_eq!(str_value(&c, &["agent"], "prompt_delivery"), Some("argv"));
    let c = import(&old_file(""));
    assert_eq!(str_value(&c, &["agent"], "stop_signal"), Some("SIGTERM"));
}

#[test]
fn a_grace_kill_keeps_the_old_default_terminal_marker() {
    let c = import(&old_file("").replace("[prompt]", "max_grace_after_result_s = 30\n[prompt]"));
    assert_eq!(
        str_value(&c, &["agent"], "terminal_marker"),
        Some("\"type\":\"result\"")
    );
    assert_eq!(
        value(&c, &["runtime"], "max_grace_after_result_s"),
        Some(&Value::Integer(30))
    );
    let c = import(&old_file(""));
    assert_eq!(value(&c, &["agent"], "terminal_marker"), None);
}

#[test]
fn bare_strings_become_lists_and_a_command_with_spaces_needs_a_look() {
    let c = import(&old_file("").replace("[\"my-agent\"]", "\"my-agent\""));
    assert_eq!(
        value(&c, &["agent"], "command")
            .map(ToString::to_string)
            .as_deref(),
        Some("[\"my-agent\"]")
    );
    let c = import(&old_file("").replace("[\"my-agent\"]", "\"my-agent --fast\""));
    assert_eq!(
        value(&c, &["agent"], "command")
            .map(ToString::to_string)
            .as_deref(),
        Some("[\"my-agent\", \"--fast\"]")
    );
    assert!(
        c.report
            .entries
            .iter()
            .any(|e| e.old == "agent.command" && e.kind == Kind::Decision)
    );
    let c = import(&old_file(""));
    assert_eq!(
        value(&c, &["prompt"], "files")
            .map(ToString::to_string)
            .as_deref(),
        Some("[\"./prompts/main.md\"]")
    );
}

#[test]
fn env_values_are_text_and_reserved_names_are_dropped() {
    let c = import(&old_file(
        "[agent.env]\nLEVEL = 3\nDEBUG = true\nAGENT_RUNNER_X = \"1\"\n",
    ));
    assert_eq!(str_value(&c, &["agent", "env"], "LEVEL"), Some("3"));
    assert_eq!(str_value(&c, &["agent", "env"], "DEBUG"), Some("True"));
    assert_eq!(value(&c, &["agent", "env"], "AGENT_RUNNER_X"), None);
    assert_eq!(kind_of(&c, "agent.env.AGENT_RUNNER_X"), Some(Kind::Dropped));
}

#[test]
fn features_agent_runner_lacks_need_a_decision() {
    let c = import(&old_file(
        "[schedule]\ntimezone = \"Europe/Paris\"\nrun_windows = [\"mon-fri 08:00-20:00\"]\n[goal]\nledger = \"/srv/ledger.md\"\n[[goal.checks]]\nname = \"t\"\ncmd = [\"make\", \"test\"]\ncwd = \"sub\"\n[[goal.checks]]\nname = \"two words\"\ncmd = \"true\"\ntimeout_s = 20\n[monitor.host_health.memory]\navail_min_mb = 300\n",
    ).replace("[prompt]", "fresh_eyes_every_n = 5\n[prompt]"));
    for old in [
        "goal.ledger",
        "goal.checks",
        "goal.checks.1.cwd",
        "monitor.host_health.memory.avail_min_mb",
        "runtime.fresh_eyes_every_n",
    ] {
        assert_eq!(kind_of(&c, old), Some(Kind::Decision), "{old}");
    }
    let project = loads(&c).expect("the decisions leave a file agent-runner reads");
    // The checks themselves are carried, with the old default time and a valid name.
    let checks: Vec<(String, u64)> = project
        .goal
        .checks
        .iter()
        .map(|g| (g.name.clone(), g.timeout_s))
        .collect();
    assert_eq!(checks, [("t".to_string(), 10), ("check-2".to_string(), 20)]);
}

#[test]
fn removed_and_unknown_keys_are_dropped_with_a_reason() {
    let c = import(&old_file(
        "[plugins]\nsandbox = \"x\"\n[vcs]\nstash_idempotency_s = 5\nbogus = 1\n[bogus_table]\nx = 1\n",
    ));
    for old in [
        "plugins.sandbox",
        "vcs.stash_idempotency_s",
        "vcs.bogus",
        "bogus_table",
    ] {
        let entry = c.report.entries.iter().find(|e| e.old == old).expect(old);
        assert_eq!(entry.kind, Kind::Dropped, "{old}");
        assert!(!entry.note.is_empty(), "{old} says why");
    }
}

#[test]
fn replaced_by_systemd_names_the_setting() {
    let c = import(
        &old_file("[monitor]\nsupervisor_stale_threshold_s = 100\n")
            .replace("[runtime]", "sigterm_grace_s = 10\n[runtime]"),
    );
    let entry = c
        .report
        .entries
        .iter()
        .find(|e| e.old == "agent.sigterm_grace_s")
        .unwrap();
    assert_eq!(entry.kind, Kind::Systemd);
    assert!(entry.new.as_deref().unwrap().contains("TimeoutStopSec="));
    assert_eq!(
        kind_of(&c, "monitor.supervisor_stale_threshold_s"),
        Some(Kind::Systemd)
    );
}

/// Every key of a file using every table is in the report, and the result loads.
#[test]
fn every_key_is_reported_and_the_result_loads() {
    let text = old_file(
        "[agent.env]\nA = \"1\"\n[vcs]\ndirty_action = \"stash\"\n[phases]\nlist = [\"x\"]\nphase_policy = \"wait\"\n[phases.x]\nprompt.files = [\"p.md\"]\n[monitor]\nauth_fail_hint = \"h\"\nauto_stop_on = [\"oauth_fail\", \"disk_critical\"]\n[plugins]\ndisable = []\n",
    );
    let c = import(&text);
    for old in [
        "schema_version",
        "agent.command",
        "agent.prompt_arg_template",
        "agent.env.A",
        "runtime.work_dir",
        "runtime.log_dir",
        "prompt.file",
        "vcs.dirty_action",
        "phases.list",
        "phases.phase_policy",
        "phases.x.prompt.files",
        "monitor.auth_fail_hint",
        "monitor.auto_stop_on.oauth_fail",
        "monitor.auto_stop_on.disk_critical",
        "plugins.disable",
    ] {
        assert!(kind_of(&c, old).is_some(), "{old} is reported");
    }
    let project = loads(&c).expect("loads");
    assert_eq!(project.phases.len(), 1);
}

#[test]
fn disk_thresholds_become_the_disk_alert_and_other_gates_need_a_decision() {
    let c = import(&old_file(
        "[monitor]\nauto_stop_on = [\"oauth_fail\"]\n[monitor.host_health.disk]\nwarning_pct = 80.5\ncritical_pct = 97\ngrowth_window_s = 600\n[monitor.host_health.memory]\navail_min_mb = 300\n",
    ));
    assert_eq!(
        value(&c, &["alerts"], "disk_warn_percent"),
        Some(&Value::Integer(81))
    );
    assert_eq!(
        value(&c, &["alerts"], "disk_halt_percent"),
        Some(&Value::Integer(97))
    );
    assert_eq!(
        kind_of(&c, "monitor.host_health.disk.growth_window_s"),
        Some(Kind::Decision)
    );
    assert_eq!(
        kind_of(&c, "monitor.host_health.memory.avail_min_mb"),
        Some(Kind::Decision)
    );
    // Without disk_critical the old monitor never stopped on a full disk; agent-runner would.
    assert_eq!(kind_of(&c, "monitor.auto_stop_on"), Some(Kind::Decision));
    let c = import(&old_file("[monitor.host_health]\ndisk_critical_pct = 99\n"));
    assert_eq!(
        value(&c, &["alerts"], "disk_halt_percent"),
        Some(&Value::Integer(99))
    );
    loads(&c).expect("loads");
}

#[test]
fn schedule_windows_are_carried_over() {
    let c = import(&old_file(
        "[schedule]\ntimezone = \"Europe/Paris\"\nrun_windows = [\"mon-fri 08:00-20:00\"]\npause_windows = [\"12:00-13:00\", \"noon\"]\n",
    ));
    assert_eq!(kind_of(&c, "schedule.timezone"), Some(Kind::Mapped));
    assert_eq!(kind_of(&c, "schedule.run_windows"), Some(Kind::Mapped));
    assert_eq!(kind_of(&c, "schedule.pause_windows"), Some(Kind::Dropped));
    let project = loads(&c).expect("the windows load");
    assert_eq!(project.schedule.timezone.as_deref(), Some("Europe/Paris"));
    assert_eq!(project.schedule.run_windows.len(), 1);
}

#[test]
fn exec_prefix_is_carried_and_plugin_hooks_are_a_decision() {
    let with_prefix = |prefix: &str| {
        old_file("[plugins]\ndisable = []\n")
            .replace("[agent]\n", &format!("[agent]\nexec_prefix = {prefix}\n"))
    };
    let c = import(&with_prefix(
        "[\"podman\", \"run\", \"--rm\", \"-i\", \"img\"]",
    ));
    assert_eq!(kind_of(&c, "agent.exec_prefix"), Some(Kind::Mapped));
    assert_eq!(kind_of(&c, "plugins"), Some(Kind::Decision));
    let project = loads(&c).expect("loads");
    assert_eq!(
        project.agent.exec_prefix,
        ["podman", "run", "--rm", "-i", "img"]
    );
    let split = import(&with_prefix("\"env FOO=1\""));
    assert_eq!(
        loads(&split).expect("loads").agent.exec_prefix,
        ["env", "FOO=1"]
    );
}
