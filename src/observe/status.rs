//! `agent-runner status [NAME]`: the loop of every project in one table, or one project in
//! detail; the snapshot it shows is [`super::snapshot`]'s.

use std::io::{self, Write};
use std::path::PathBuf;

use serde_json::Value;

use super::loop_state::LoopState;
use super::partial;
use super::snapshot::{Snapshot, snapshot};
use super::state_file::LastOutcome;
use super::unit_states::loaded_units_in_detail;
use crate::config::{self, Project, ProjectRef};
use crate::context::Context;
use crate::error::{Error, Result, Unseen};
use crate::output::{self, Paint, Tone};
use crate::paths::Scope;
use crate::systemd::bus::{Bus, UnitInfo};
use crate::time::{now_us, parse_iso_us, relative};

/// `agent-runner status [NAME] [--json]`.
/// When a project's view is partial (its state or events could not be read), that is said on
/// stderr after the report and the exit status is 1.
pub(crate) fn run(ctx: &Context, reference: Option<ProjectRef>, json: bool) -> Result<u8> {
    let snaps = match reference {
        Some(reference) => vec![one(ctx, &reference, json)?],
        None => all(ctx, json)?,
    };
    let unseen: Vec<Unseen> = snaps.into_iter().flat_map(|s| s.unreadable).collect();
    partial::finish(&unseen)
}

/// A schedule pause: why, and the next start (or when the loop looks again).
fn schedule_line(pause: &crate::round::state::SchedulePause) -> String {
    let why = if pause.window.is_empty() {
        "outside the run windows".to_string()
    } else {
        format!("pause window \"{}\"", pause.window)
    };
    let tz = &pause.timezone;
    match pause.resume_at {
        Some(at) => format!("{why} ({tz}), next start {}", crate::time::iso_utc_s(at)),
        None => format!(
            "{why} ({tz}), no window opens within 8 days; looking again {}",
            crate::time::iso_utc_s(pause.recheck_at)
        ),
    }
}

/// One project in detail.
fn one(ctx: &Context, reference: &ProjectRef, json: bool) -> Result<Snapshot> {
    let (project, config_error) = config::load_for_reading(reference, ctx.scope)?;
    let bus = Bus::connect(ctx.scope, None)?;
    let mut snap = snapshot(&project, &bus, None)?;
    snap.config_error = config_error;
    output::to_stdout(|out| {
        if json {
            output::json(out, &snap)
        } else {
            present_detail(out, &snap)
        }
    })?;
    Ok(snap)
}

/// Every project of the config directory; a TOML that does not load is listed as broken.
fn all(ctx: &Context, json: bool) -> Result<Vec<Snapshot>> {
    let (projects, broken) = every_project(ctx.scope)?;
    let snaps: Vec<Snapshot> = projects.into_iter().map(|(_, snap)| snap).collect();
    output::to_stdout(|out| {
        if json {
            output::json(out, &json_rows(&snaps, &broken))
        } else {
            present_table(out, &snaps, &broken, ctx.scope)
        }
    })?;
    Ok(snaps)
}

/// The project files that do not load, with why.
pub(crate) type Broken = Vec<(PathBuf, Error)>;

/// The snapshot of every project of the config directory, and the TOMLs that do not load (the
/// page and the metrics show the same).
pub(crate) fn every_project(scope: Scope) -> Result<(Vec<(Project, Snapshot)>, Broken)> {
    let files = config::discover(scope)?;
    let bus = Bus::connect(scope, None)?;
    let loaded = loaded_units_in_detail(&bus)?;
    let mut snaps = Vec::new();
    let mut broken = Vec::new();
    for file in files {
        match config::load(&file, scope) {
            Ok(project) => {
                let snap = snapshot(&project, &bus, Some(&loaded))?;
                snaps.push((project, snap));
            }
            Err(e) => broken.push((file, e)),
        }
    }
    Ok((snaps, broken))
}

/// The `status --json` array: one object per snapshot, then one per TOML that does not load.
pub(crate) fn json_rows(snaps: &[Snapshot], broken: &[(PathBuf, Error)]) -> Vec<Value> {
    let mut rows: Vec<Value> = snaps
        .iter()
        .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
        .collect();
    for (file, e) in broken {
        rows.push(serde_json::json!({
            "project": file.file_stem().map(|s| s.to_string_lossy().into_owned()),
            "source": file,
            "state": "config-error",
            "reason": e.to_string(),
        }));
    }
    rows
}

/// "ok 12.3s" for a last outcome, "ok 12.3s, log incomplete" when its output did not all reach
/// the round log.
fn outcome_text(o: &LastOutcome) -> String {
    let what = o.outcome.clone().unwrap_or_else(|| "?".into());
    let what = match o.duration_ms {
        Some(ms) => format!("{what} {}.{}s", ms / 1000, (ms % 1000) / 100),
        None => what,
    };
    if o.log_complete == Some(false) {
        format!("{what}, log incomplete")
    } else {
        what
    }
}

/// The state with its reason: `halted(max_rounds)`, `throttled(rate_limit)`.
fn state_text(s: &Snapshot) -> String {
    match (&s.reason, s.state) {
        (Some(r), LoopState::Halted | LoopState::Failed) => format!("{}({r})", s.state.as_str()),
        (_, LoopState::Throttled) => format!(
            "throttled({})",
            s.throttle_class.as_deref().unwrap_or("transient")
        ),
        _ => s.state.as_str().to_string(),
    }
}

/// The colour of a state in the table: green while it works, yellow when it waits on something
/// or ended as it was meant to, red when the operator must act; no colour for the quiet ones.
fn state_tone(s: &Snapshot) -> Tone {
    if s.schedule_pause.is_some() || finished_normally(s) {
        return Tone::Notice;
    }
    match s.state {
        LoopState::Running => Tone::Good,
        LoopState::Throttled | LoopState::NotGenerated => Tone::Notice,
        LoopState::Halted | LoopState::Offline | LoopState::Failed | LoopState::StartLimitHit => {
            Tone::Bad
        }
        LoopState::Waiting | LoopState::Stopped => Tone::Plain,
    }
}

/// The table of every project.
fn present_table(
    out: &mut dyn Paint,
    snaps: &[Snapshot],
    broken: &[(PathBuf, Error)],
    scope: Scope,
) -> io::Result<()> {
    if snaps.is_empty() && broken.is_empty() {
        return writeln!(
            out,
            "no projects in {} (create one with `agent-runner{} init --preset shell NAME`)",
            scope.config_dir().display(),
            scope.flag()
        );
    }
    let now = now_us();
    let mut rows = vec![["PROJECT", "STATE", "ROUND", "PHASE", "LAST", "NEXT"].map(String::from)];
    rows.extend(snaps.iter().map(|s| table_row(s, now)));
    let mut tones = vec![Tone::Plain];
    tones.extend(snaps.iter().map(state_tone));
    present_columns(out, &rows, &tones)?;
    for (file, e) in broken {
        let first = e.to_string();
        let name = file
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        write!(out, "{name:<20} ")?;
        out.paint(Tone::Bad, "config-error")?;
        writeln!(out, "  {}", first.lines().next().unwrap_or(""))?;
    }
    if snaps.iter().any(|s| s.drifted) {
        writeln!(
            out,
            "drifted: the TOML changed after generate; run `agent-runner{} generate` to apply it",
            scope.flag()
        )?;
    }
    Ok(())
}

/// One project's cells of the table.
fn table_row(s: &Snapshot, now: u64) -> [String; 6] {
    let mut state = state_text(s);
    if s.drifted {
        state.push_str(" drifted");
    }
    if !s.unreadable.is_empty() {
        state.push_str(" partial");
    }
    if !s.alerts.is_empty() {
        state.push_str(" alerts:");
        state.push_str(&s.alerts.len().to_string());
    }
    [
        s.project.clone(),
        state,
        s.round.map_or_else(|| "-".into(), |r| r.to_string()),
        s.phase.clone().unwrap_or_else(|| "-".into()),
        s.last_outcome
            .as_ref()
            .map_or_else(|| "-".into(), outcome_text),
        next_text(s, now),
    ]
}

/// The rows with each column as wide as its widest cell, so that a long state or phase moves
/// the columns after it instead of running into them; ROUND (the third) is right-aligned. The
/// STATE cell of row i is painted in `tones[i]` (the padding is not, so colours never shift
/// the columns).
fn present_columns(out: &mut dyn Paint, rows: &[[String; 6]], tones: &[Tone]) -> io::Result<()> {
    let mut widths = [0; 6];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for (row, &tone) in rows.iter().zip(tones) {
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            let pad = " ".repeat(width - cell.chars().count());
            match i {
                1 => {
                    out.paint(tone, cell)?;
                    write!(out, "{pad} ")?;
                }
                2 => write!(out, "{pad}{cell} ")?,
                5 => write!(out, "{cell}")?,
                _ => write!(out, "{cell}{pad} ")?,
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The NEXT column: the back-off, the next round, or whether one runs now.
fn next_text(s: &Snapshot, now: u64) -> String {
    if let Some(until) = &s.throttle_until {
        let at = parse_iso_us(until).unwrap_or(now);
        format!(
            "throttled {} ({})",
            relative(at, now),
            s.throttle_class.as_deref().unwrap_or("?")
        )
    } else if let Some(at) = s.next_round_at.as_deref().and_then(parse_iso_us) {
        relative(at, now)
    } else if s.state == LoopState::Running {
        "running now".into()
    } else {
        "-".into()
    }
}

/// One project in detail.
fn present_detail(out: &mut dyn Write, s: &Snapshot) -> io::Result<()> {
    let now = now_us();
    let scope = match s.scope {
        Scope::System => "system",
        Scope::User => "user",
    };
    writeln!(out, "{} ({}, {scope})", s.project, s.source.display())?;
    if let Some(error) = &s.config_error {
        writeln!(out, "  config:      does not load: {error}")?;
    }
    writeln!(
        out,
        "  state:       {}{}",
        state_text(s),
        partial::mark(&s.unreadable)
    )?;
    if s.state == LoopState::Offline
        && let Some(e) = &s.last_error
    {
        writeln!(out, "  why:         {e}")?;
    }
    present_rounds(out, s, now)?;
    if let Some(spend) = &s.spend {
        writeln!(out, "  spend:       {}", super::spend::line(spend))?;
        if let Some(park) = &spend.budget_park {
            writeln!(
                out,
                "  parked:      {} spent, until {}",
                park.budget,
                crate::time::iso_utc_s(park.until)
            )?;
        }
        if let Some(problem) = &spend.ledger_problem {
            writeln!(out, "  ledger:      {problem}")?;
        }
    }
    if let Some(park) = &s.account_park {
        writeln!(
            out,
            "  parked:      {}, until {}",
            park.reason,
            crate::time::iso_utc_s(park.until)
        )?;
    }
    if let Some(pause) = &s.schedule_pause {
        writeln!(out, "  paused:      {}", schedule_line(pause))?;
    }
    if let Some(e) = &s.last_error
        && s.state != LoopState::Offline
    {
        let label = if finished_normally(s) {
            "finished:   "
        } else {
            "last error: "
        };
        writeln!(out, "  {label} {e}")?;
    }
    for alert in &s.alerts {
        writeln!(
            out,
            "  alert:       {} ({}, since {}): {}",
            alert.detector.name(),
            alert.severity.name(),
            alert.since,
            alert.evidence.summary
        )?;
    }
    let at_boot = if s.enabled { "enabled" } else { "disabled" };
    writeln!(out, "  at boot:     {at_boot}")?;
    if s.drifted {
        writeln!(
            out,
            "  drift:       the TOML changed after generate; run `agent-runner{} generate {}`",
            s.scope.flag(),
            s.project
        )?;
    }
    for (label, unit) in s.units.labelled() {
        let text = unit
            .as_ref()
            .map_or_else(|| "not loaded".to_string(), |u| unit_text(u, now));
        writeln!(out, "  {label:<8}     {text}")?;
    }
    partial::present(out, &s.unreadable)
}

/// The halt reasons of a loop that ended as it was meant to: the message the halt left in the
/// state file says how it finished, not what went wrong.
const NORMAL_FINISHES: [&str; 4] = ["max_rounds", "agent_done", "stop_file", "goal_reached"];

fn finished_normally(s: &Snapshot) -> bool {
    s.state == LoopState::Halted
        && s.reason
            .as_deref()
            .is_some_and(|r| NORMAL_FINISHES.contains(&r))
}

/// The round lines of the detail: the current round, the last one, the next, the back-off.
fn present_rounds(out: &mut dyn Write, s: &Snapshot, now: u64) -> io::Result<()> {
    if let Some(r) = s.round {
        let phase = s
            .phase
            .as_ref()
            .map(|p| format!(" (phase {p})"))
            .unwrap_or_default();
        writeln!(out, "  round:       {r}{phase}")?;
    }
    if let Some(o) = &s.last_outcome {
        let code = o
            .exit_code
            .map(|c| format!(", exit {c}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  last round:  {} {}{code}",
            o.round.map_or_else(String::new, |r| format!("#{r}")),
            outcome_text(o)
        )?;
    }
    if let Some(at) = s.next_round_at.as_deref() {
        let rel = parse_iso_us(at)
            .map(|t| relative(t, now))
            .unwrap_or_default();
        writeln!(out, "  next round:  {at} ({rel})")?;
    }
    if let Some(until) = &s.throttle_until {
        writeln!(
            out,
            "  throttled:   until {until} ({})",
            s.throttle_class.as_deref().unwrap_or("transient")
        )?;
    }
    Ok(())
}

/// One unit of the detail: `NAME active/running, result exit-code since 3m05s ago`.
fn unit_text(u: &UnitInfo, now: u64) -> String {
    let since = [u.state_change_us, u.active_enter_us]
        .into_iter()
        .max()
        .filter(|t| *t > 0)
        .map(|t| format!(" since {}", relative(t, now)))
        .unwrap_or_default();
    let result = if u.result.is_empty() || u.result == "success" {
        String::new()
    } else {
        format!(", result {}", u.result)
    };
    format!(
        "{} {}/{}{result}{since}",
        u.name, u.active_state, u.sub_state
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::observe::snapshot::example;

    fn unseen_state() -> Unseen {
        Unseen {
            source: "state",
            path: PathBuf::from("/var/lib/agent-runner/t/state.json"),
            reason: "permission denied".into(),
            hint: crate::fsutil::HINT_DENIED,
        }
    }

    fn text(present: impl FnOnce(&mut dyn Paint) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        present(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_round_log_cut_short_is_said_in_text_and_json() {
        let mut snap = example(LoopState::Waiting, None, Vec::new());
        snap.last_outcome = Some(LastOutcome {
            round: Some(7),
            outcome: Some("ok".into()),
            duration_ms: Some(12_300),
            log_complete: Some(false),
            log_error: Some("No space left on device (os error 28)".into()),
            ..LastOutcome::default()
        });
        let detail = text(|out| present_detail(out, &snap));
        assert!(
            detail.contains("  last round:  #7 ok 12.3s, log incomplete\n"),
            "{detail}"
        );
        let json = serde_json::to_value(&snap).unwrap();
        assert_eq!(json["last_outcome"]["log_complete"], false);
        assert_eq!(
            json["last_outcome"]["log_error"],
            "No space left on device (os error 28)"
        );
        snap.last_outcome.as_mut().unwrap().log_complete = Some(true);
        let detail = text(|out| present_detail(out, &snap));
        assert!(!detail.contains("incomplete"), "{detail}");
    }

    #[test]
    fn a_project_file_that_does_not_load_is_said_beside_the_state() {
        let mut snap = example(LoopState::Waiting, None, Vec::new());
        let json = serde_json::to_value(&snap).unwrap();
        assert!(json.get("config_error").is_none(), "{json}");
        snap.config_error = Some("/etc/agent-runner/t.toml:2:7: unclosed table".into());
        let detail = text(|out| present_detail(out, &snap));
        assert!(
            detail.contains(
                "  config:      does not load: /etc/agent-runner/t.toml:2:7: unclosed table\n  state:"
            ),
            "{detail}"
        );
        let json = serde_json::to_value(&snap).unwrap();
        assert_eq!(
            json["config_error"],
            "/etc/agent-runner/t.toml:2:7: unclosed table"
        );
    }

    #[test]
    fn a_normal_finish_is_not_a_last_error() {
        let mut done = example(LoopState::Halted, Some("max_rounds"), Vec::new());
        done.last_error = Some("max_rounds reached (2)".into());
        let detail = text(|out| present_detail(out, &done));
        assert!(
            detail.contains("  finished:    max_rounds reached (2)\n"),
            "{detail}"
        );
        assert!(!detail.contains("last error"), "{detail}");
        let mut broken = example(LoopState::Halted, Some("crash_loop"), Vec::new());
        broken.last_error = Some("3 crashes in a row".into());
        let detail = text(|out| present_detail(out, &broken));
        assert!(
            detail.contains("  last error:  3 crashes in a row\n"),
            "{detail}"
        );
    }

    #[test]
    fn the_table_columns_hold_for_long_states_and_drift_says_what_to_run() {
        let mut long = example(LoopState::Throttled, None, vec![unseen_state()]);
        long.project = "a-rather-long-project-name".into();
        long.throttle_class = Some("rate_limit_account".into());
        long.drifted = true;
        long.round = Some(12);
        let short = example(LoopState::Waiting, None, Vec::new());
        let table = text(|out| present_table(out, &[long, short], &[], Scope::System));
        let lines: Vec<&str> = table.lines().collect();
        assert!(
            lines[1].contains("throttled(rate_limit_account) drifted partial    12 -"),
            "{table}"
        );
        // Every row has its PHASE cell ("-" here) where the header has PHASE.
        let phase = lines[0].find("PHASE").unwrap();
        for row in &lines[1..3] {
            assert_eq!(&row[phase - 1..=phase], " -", "{table}");
        }
        assert!(
            table.ends_with(
                "drifted: the TOML changed after generate; run `agent-runner generate` to apply it\n"
            ),
            "{table}"
        );
    }

    #[test]
    fn a_partial_view_is_marked_in_text_and_json() {
        let seen = example(LoopState::Failed, Some("exit-code"), Vec::new());
        let blind = example(LoopState::Failed, Some("exit-code"), vec![unseen_state()]);

        let detail = text(|out| present_detail(out, &seen));
        assert!(
            detail.contains("  state:       failed(exit-code)\n"),
            "{detail}"
        );
        assert!(!detail.contains("unreadable"), "{detail}");
        let detail = text(|out| present_detail(out, &blind));
        assert!(
            detail.contains("  state:       failed(exit-code) (partial view)\n"),
            "{detail}"
        );
        assert!(
            detail.contains(
                "  unreadable:\n    state /var/lib/agent-runner/t/state.json: permission denied\n"
            ),
            "{detail}"
        );

        let table = text(|out| present_table(out, &[seen, blind.clone()], &[], Scope::System));
        let rows: Vec<&str> = table.lines().skip(1).collect();
        assert!(!rows[0].contains("partial"), "{table}");
        assert!(rows[1].contains("failed(exit-code) partial"), "{table}");

        let json = serde_json::to_value(&blind).unwrap();
        assert_eq!(
            json["unreadable"],
            serde_json::json!([{"source": "state", "path": "/var/lib/agent-runner/t/state.json", "reason": "permission denied"}])
        );
    }

    #[test]
    fn states_are_coloured_on_a_terminal_and_what_the_agent_wrote_stays_escaped() {
        let mut running = example(LoopState::Running, None, Vec::new());
        running.phase = Some("build\x1b[32m".into());
        let failed = example(LoopState::Failed, Some("exit-code"), Vec::new());
        let finished = example(LoopState::Halted, Some("max_rounds"), Vec::new());
        let snaps = [running, failed, finished];
        let render = |coloured: bool| {
            let mut out = output::Printable::new(Vec::new()).coloured(coloured);
            present_table(&mut out, &snaps, &[], Scope::System).unwrap();
            out.flush().unwrap();
            String::from_utf8(out.into_inner()).unwrap()
        };
        let table = render(true);
        assert!(table.contains("\x1b[32mrunning\x1b[0m "), "{table:?}");
        assert!(
            table.contains("\x1b[1;31mfailed(exit-code)\x1b[0m"),
            "{table:?}"
        );
        assert!(
            table.contains("\x1b[33mhalted(max_rounds)\x1b[0m"),
            "{table:?}"
        );
        assert!(table.contains("build\\u001b[32m"), "{table:?}");
        // The columns are where they are without colour.
        let plain = render(false);
        assert!(!plain.contains('\x1b'), "{plain:?}");
        let stripped = table
            .replace("\x1b[32m", "")
            .replace("\x1b[33m", "")
            .replace("\x1b[1;31m", "")
            .replace("\x1b[0m", "");
        assert_eq!(stripped, plain);
    }
}
