//! `[runtime]`: where rounds run, as whom, how long, and what ends the loop.

use std::path::{Path, PathBuf};

use regex::Regex;

use super::checker::Checker;
use super::resolve::{Resolver, resolve};
use crate::config::model::{Phase, Runtime, TransientAction};
use crate::config::presets::Preset;
use crate::config::problems::echoed;
use crate::config::raw::RawRuntime;
use crate::config::schedule;
use crate::paths::Scope;

const DEFAULT_ROUND_TIMEOUT_S: i64 = 1800;

/// The most grace-kill ignore patterns a project may set: each one is compiled at every load
/// (100,000 of them took a second and 345 MB) and matched against every lingering process.
pub(super) const MAX_IGNORE_PATTERNS: usize = 100;

/// `work_dir`, resolved against the directory of the TOML file. A missing or unusable one is a
/// problem; the TOML file's directory then stands in so that the other checks can go on.
pub(super) fn work_dir(
    c: &mut Checker<'_, '_>,
    raw: Option<&str>,
    project: &str,
    toml_dir: &Path,
) -> PathBuf {
    match raw {
        None => {
            c.fail_hint(
                &["runtime", "work_dir"],
                "missing `work_dir`",
                "set [runtime] work_dir to the agent's git repository",
            );
            toml_dir.to_path_buf()
        }
        Some(w) if w.trim().is_empty() => {
            c.fail(&["runtime", "work_dir"], "must be a non-empty path");
            toml_dir.to_path_buf()
        }
        Some(w) if !c.free_of_control_chars(&["runtime", "work_dir"], w) => toml_dir.to_path_buf(),
        Some(w) => resolve(w, project, toml_dir),
    }
}

/// The other `[runtime]` paths, checked right after work_dir (they resolve against it).
pub(super) struct RuntimeFiles {
    log_dir: Option<PathBuf>,
    stop_file: Option<PathBuf>,
    narrative_file: Option<PathBuf>,
}

pub(super) fn files(
    c: &mut Checker<'_, '_>,
    raw: &RawRuntime,
    paths: &Resolver<'_>,
) -> RuntimeFiles {
    RuntimeFiles {
        log_dir: paths.path_key(c, &["runtime", "log_dir"], raw.log_dir.as_deref()),
        stop_file: paths.path_key(c, &["runtime", "stop_file"], raw.stop_file.as_deref()),
        narrative_file: paths.path_key(
            c,
            &["runtime", "narrative_file"],
            raw.narrative_file.as_deref(),
        ),
    }
}

/// `[runtime]`, with defaults; `files` are the paths [`files`] checked.
pub(super) fn runtime(
    c: &mut Checker<'_, '_>,
    raw: &RawRuntime,
    preset: Option<&Preset>,
    paths: &Resolver<'_>,
    files: RuntimeFiles,
    scope: Scope,
) -> Runtime {
    let user = user(c, raw.user.as_deref());
    let schedule = schedule(c, raw.schedule.as_deref());
    let round_timeout_s = c.positive(
        &["runtime", "round_timeout_s"],
        raw.round_timeout_s,
        DEFAULT_ROUND_TIMEOUT_S,
    );
    let restart_delay_s = c.positive(&["runtime", "restart_delay_s"], raw.restart_delay_s, 3);
    let checkin_timeout_s =
        c.positive(&["runtime", "checkin_timeout_s"], raw.checkin_timeout_s, 30);
    let checkin_attempts = c.positive(&["runtime", "checkin_attempts"], raw.checkin_attempts, 3);
    let watchdog_s = c.optional_positive(&["runtime", "watchdog_s"], raw.watchdog_s);
    let max_rounds = c.optional_positive(&["runtime", "max_rounds"], raw.max_rounds);
    let round_log_retention = c.positive(
        &["runtime", "round_log_retention"],
        raw.round_log_retention,
        100,
    );
    let crash_loop_threshold = c.positive(
        &["runtime", "crash_loop_threshold"],
        raw.crash_loop_threshold,
        5,
    );
    let short_crash_s = c.positive(&["runtime", "short_crash_s"], raw.short_crash_s, 60);
    let auth_fail_halt_after = c.positive(
        &["runtime", "auth_fail_halt_after"],
        raw.auth_fail_halt_after,
        2,
    );
    let max_grace_after_result_s = c.optional_positive(
        &["runtime", "max_grace_after_result_s"],
        raw.max_grace_after_result_s,
    );
    let transient_error_action = c.choice(
        &["runtime", "transient_error_action"],
        raw.transient_error_action.as_deref(),
        &[
            ("back_off", TransientAction::BackOff),
            ("stop", TransientAction::Stop),
            ("ignore", TransientAction::Ignore),
        ],
        TransientAction::BackOff,
    );
    let grace_kill_ignore_patterns = grace_kill_ignore_patterns(c, raw, preset);
    Runtime {
        work_dir: paths.work_dir.to_path_buf(),
        log_dir: files
            .log_dir
            .clone()
            .unwrap_or_else(|| scope.default_log_dir(paths.project)),
        log_dir_explicit: files.log_dir.is_some(),
        user,
        restart_delay_s,
        schedule,
        round_timeout_s,
        checkin_timeout_s,
        checkin_attempts: u32::try_from(checkin_attempts).unwrap_or(u32::MAX),
        watchdog_s,
        max_rounds,
        stop_file: files.stop_file,
        round_log_retention: u32::try_from(round_log_retention).unwrap_or(u32::MAX),
        transient_error_action,
        crash_loop_threshold: u32::try_from(crash_loop_threshold).unwrap_or(u32::MAX),
        short_crash_s,
        auth_fail_halt_after: u32::try_from(auth_fail_halt_after).unwrap_or(u32::MAX),
        max_grace_after_result_s,
        grace_kill_ignore_patterns,
        narrative_file: files.narrative_file,
    }
}

fn user(c: &mut Checker<'_, '_>, raw: Option<&str>) -> Option<String> {
    let u = raw?;
    if valid_user_name(u) {
        return Some(u.to_string());
    }
    c.fail(
        &["runtime", "user"],
        format!("{u:?} is not a valid user name"),
    );
    None
}

fn valid_user_name(name: &str) -> bool {
    // The portable subset systemd's User= accepts (a name, or a numeric UID).
    let mut chars = name.chars();
    !name.is_empty()
        && name.len() <= 31
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Only the characters of `schedule` are checked here; `check` and `generate` ask systemd.
fn schedule(c: &mut Checker<'_, '_>, raw: Option<&str>) -> Option<String> {
    let s = raw?;
    if s.trim().is_empty() {
        c.fail(
            &["runtime", "schedule"],
            "must be a systemd calendar expression such as \"*-*-* 02:00\"",
        );
        return None;
    }
    if !c.free_of_control_chars(&["runtime", "schedule"], s) {
        return None;
    }
    match schedule::coarse(s) {
        Ok(()) => Some(s.to_string()),
        Err(msg) => {
            c.fail_hint(
                &["runtime", "schedule"],
                msg,
                "see systemd.time(7); `systemd-analyze calendar EXPR` shows how it is read",
            );
            None
        }
    }
}

/// The preset's patterns, then the file's, each compiled; an invalid one is a problem.
fn grace_kill_ignore_patterns(
    c: &mut Checker<'_, '_>,
    raw: &RawRuntime,
    preset: Option<&Preset>,
) -> Vec<Regex> {
    let mut all_patterns: Vec<String> = preset
        .map(|p| {
            p.grace_kill_ignore_patterns
                .iter()
                .map(ToString::to_string)
                .collect()
        })
        .unwrap_or_default();
    let key = ["runtime", "grace_kill_ignore_patterns"];
    if raw.grace_kill_ignore_patterns.len() > MAX_IGNORE_PATTERNS {
        c.fail(
            &key,
            format!(
                "lists {} patterns; a project may set at most {MAX_IGNORE_PATTERNS}",
                raw.grace_kill_ignore_patterns.len()
            ),
        );
        return Vec::new();
    }
    all_patterns.extend(raw.grace_kill_ignore_patterns.iter().cloned());
    let mut patterns = Vec::new();
    for (i, p) in all_patterns.iter().enumerate() {
        match Regex::new(p) {
            Ok(re) => patterns.push(re),
            Err(e) => {
                let first = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("invalid")
                    .trim()
                    .to_string();
                c.fail(
                    &key,
                    format!(
                        "pattern {} (\"{}\") is not a valid regex: {first}",
                        i + 1,
                        echoed(p)
                    ),
                );
            }
        }
    }
    patterns
}

/// An explicit check-in timeout must be able to fire before the shortest round ends. (The
/// default is left alone: with a round shorter than it, the round timeout simply comes first.)
pub(super) fn check_checkin_fits(
    c: &mut Checker<'_, '_>,
    raw: &RawRuntime,
    runtime: &Runtime,
    phases: &[Phase],
) {
    let round_timeout_s = runtime.round_timeout_s;
    let (shortest, shortest_key) = phases
        .iter()
        .map(|p| {
            (
                p.round_timeout_s,
                format!("phases.{}.round_timeout_s", p.name),
            )
        })
        .chain([(round_timeout_s, "round_timeout_s".to_string())])
        .min_by_key(|(t, _)| *t)
        .unwrap_or((round_timeout_s, "round_timeout_s".to_string()));
    if raw.checkin_timeout_s.is_some() && runtime.checkin_timeout_s >= shortest {
        c.fail(
            &["runtime", "checkin_timeout_s"],
            format!("must be shorter than {shortest_key} ({shortest})"),
        );
    }
}
