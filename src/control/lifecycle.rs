//! Lifecycle commands over D-Bus: start, stop, restart, kill, enable, disable.
//!
//! The loop of a project is four units: `agent-runner@NAME.service` (one round), its `.timer`
//! (the next round) and `.path` (stop triggers), and `agent-runner-halt@NAME.service`. Starting
//! the service pulls the timer and path in; stopping it stops them (PartOf=). A graceful stop
//! stops the timer and path first, so no new round can start, and waits for the running round.

use std::time::{Duration, Instant};

use crate::config::ProjectRef;
use crate::context::Context;
use crate::error::{Error, Result, exit};
use crate::events::Emitter;
use crate::events::payload::LoopStopped;
use crate::fsutil;
use crate::paths::Scope;
use crate::systemd::bus::{Bus, JobResult, UnitInfo};
use crate::time::human_duration;
use crate::units::{Units, project_of};

/// What the lifecycle commands need of a project: its name, and (locally) its loaded config.
struct Target {
    name: String,
    project: Option<crate::config::Project>,
}

fn target(ctx: &Context, reference: &ProjectRef) -> Result<Target> {
    if ctx.host.is_some() {
        // The TOML lives on the remote host; the unit names only need the project name.
        return match reference {
            ProjectRef::Name(name) => crate::config::require_valid_name(name).map(|()| Target {
                name: name.clone(),
                project: None,
            }),
            ProjectRef::File(_) => Err(Error::Usage(
                "--config cannot be combined with --host: name the project as it is known there"
                    .into(),
            )),
        };
    }
    let project = crate::config::load_project(reference, ctx.scope)?;
    Ok(Target {
        name: project.name.clone(),
        project: Some(project),
    })
}

/// [`target`] for the commands that only take a loop down (stop, kill, disable): they need the
/// name alone, and a TOML that no longer loads must not keep its loop running, so a project whose
/// file exists is found by its name, with a warning saying what is wrong with the file.
fn target_to_stop(ctx: &Context, reference: &ProjectRef) -> Result<Target> {
    if ctx.host.is_some() {
        return target(ctx, reference);
    }
    let project = crate::config::load_for_reading_said(reference, ctx.scope)?;
    Ok(Target {
        name: project.name,
        project: None,
    })
}

fn connect(ctx: &Context) -> Result<Bus> {
    Bus::connect(ctx.scope, ctx.host.as_deref())
}

/// Refuses to act on units systemd cannot load (never generated), with the fix.
fn require_loaded(info: &UnitInfo, name: &str, scope: Scope) -> Result<()> {
    if info.load_state == "loaded" {
        return Ok(());
    }
    Err(Error::Failed(format!(
        "{} is {} (the units of {name} are not installed)\n  hint: run `agent-runner{} generate {name}`",
        info.name,
        if info.load_state.is_empty() {
            "unknown"
        } else {
            &info.load_state
        },
        scope.flag()
    )))
}

/// Warnings before a start: a stop file that would halt the loop at once, units older than the
/// TOML.
fn preflight(target: &Target, scope: Scope) -> Result<()> {
    let Some(project) = &target.project else {
        return Ok(());
    };
    // The stop file's entry itself: a link the agent put there is not followed.
    if let Some(stop) = &project.runtime.stop_file
        && fsutil::entry_kind(stop).is_ok_and(|kind| kind.is_some())
    {
        return Err(Error::Failed(format!(
            "the stop file {} exists, so the loop would halt at once\n  hint: remove it, then run this again",
            stop.display()
        )));
    }
    let drift = crate::render::drift::drift(project, scope);
    if drift.generated && !drift.in_sync {
        eprintln!(
            "warning: the units of {} are older than {} (edited after generate)\n  hint: run `agent-runner{} generate {}` to apply the changes",
            project.name,
            project.source.display(),
            scope.flag(),
            project.name
        );
    }
    Ok(())
}

/// Why a round of a project whose start failed stopped on its configuration, in one or two
/// plain lines (exit 78): the first error of the startup battery the round ran, and how many more
/// `check` lists. The loop has recorded `config_broken` and halted by then, as it does for every
/// start, so the failed start is still on the record.
fn broken_config(target: &Target) -> Option<Error> {
    let project = target.project.as_ref()?;
    let errors = crate::config::battery::errors(project);
    let first = errors.first()?;
    let mut hints: Vec<String> = first.hint.iter().cloned().collect();
    if errors.len() > 1 {
        hints.push(format!(
            "{} more: `agent-runner{} check {}`",
            errors.len() - 1,
            project.scope.flag(),
            project.name
        ));
    }
    let problem = crate::error::ConfigProblem::new(
        &project.source,
        format!("{} cannot start: {}", project.name, first.message),
    );
    Some(Error::Config(vec![problem.hint(hints.join("; "))]))
}

fn reset_all(bus: &Bus, units: &Units) -> Result<()> {
    let after_round = units.after_round.iter().map(String::as_str);
    for unit in units
        .all()
        .into_iter()
        .chain([units.loop_unit.as_str()])
        .chain(after_round)
    {
        bus.reset_failed(unit)?;
    }
    Ok(())
}

fn job_done(result: &JobResult, bus: &Bus, verb: &str) -> Result<()> {
    if result.result == "done" {
        return Ok(());
    }
    let info = bus.unit(&result.unit).ok();
    let detail = info.map_or_else(String::new, |i| {
        let status = i
            .exec_main_status
            .filter(|s| *s != 0)
            .map(|s| format!(", exit status {s}"))
            .unwrap_or_default();
        format!(" ({}: {}{status})", i.active_state, i.result)
    });
    Err(Error::Failed(format!(
        "{verb} {} {}{detail}\n  hint: `agent-runner{} diagnose {}` says why; `journalctl -u {}` has the details",
        result.unit,
        result.result,
        bus.scope().flag(),
        project_of(&result.unit),
        result.unit
    )))
}

/// `agent-runner start NAME`: whatever state the loop is in (failed, start-limit-hit, halted,
/// offline), clear it and run round 1 now.
pub(crate) fn start(ctx: &Context, project: &ProjectRef) -> Result<u8> {
    let target = target(ctx, project)?;
    let units = Units::of(&target.name);
    let bus = connect(ctx)?;
    preflight(&target, ctx.scope)?;
    let before = bus.unit(&units.service)?;
    require_loaded(&before, &target.name, ctx.scope)?;
    let timer = bus.unit(&units.timer)?;
    if before.is_up() && timer.is_up() {
        crate::output::line(format_args!("{} is already running", target.name))?;
        return Ok(exit::OK);
    }
    wait_for_after_round(&bus, &units)?;
    // Start limits and failed states would refuse or confuse the start: clear them first.
    reset_all(&bus, &units)?;
    let started = Instant::now();
    let result = bus.start(&units.service)?;
    job_done(&result, &bus, "starting").map_err(|e| broken_config(&target).unwrap_or(e))?;
    crate::output::line(format_args!(
        "started {} ({}): first round running, checked in after {:.1}s",
        target.name,
        units.service,
        started.elapsed().as_secs_f64()
    ))?;
    Ok(exit::OK)
}

/// `agent-runner restart NAME`: terminate the running round (if any) and start over.
pub(crate) fn restart(ctx: &Context, project: &ProjectRef) -> Result<u8> {
    let target = target(ctx, project)?;
    let units = Units::of(&target.name);
    let bus = connect(ctx)?;
    preflight(&target, ctx.scope)?;
    require_loaded(&bus.unit(&units.service)?, &target.name, ctx.scope)?;
    wait_for_after_round(&bus, &units)?;
    reset_all(&bus, &units)?;
    let started = Instant::now();
    let result = bus.restart(&units.service)?;
    job_done(&result, &bus, "restarting").map_err(|e| broken_config(&target).unwrap_or(e))?;
    // The restart of the service propagates to its timer and path (PartOf=), but a loop that
    // was stopped had them stopped too: make sure both run.
    for unit in [&units.timer, &units.path] {
        job_done(&bus.start(unit)?, &bus, "starting")?;
    }
    crate::output::line(format_args!(
        "restarted {} in {:.1}s: a new round is running",
        target.name,
        started.elapsed().as_secs_f64()
    ))?;
    Ok(exit::OK)
}

/// `agent-runner stop NAME [--now]`.
pub(crate) fn stop(ctx: &Context, project: &ProjectRef, now: bool) -> Result<u8> {
    let target = target_to_stop(ctx, project)?;
    let bus = connect(ctx)?;
    let units = Units::of(&target.name);
    let was_running = loop_running(&bus, &units)?;
    let (took, note) = if now {
        stop_now(&bus, &units)?
    } else {
        stop_graceful(&bus, &units)?
    };
    if was_running && ctx.host.is_none() {
        record_stop(&target.name, now);
    }
    crate::output::line(format_args!(
        "stopped {} in {}{note}",
        target.name,
        seconds(took)
    ))?;
    Ok(exit::OK)
}

/// The loop is running: a round is up or the timer waits for the next one. A loop that was already
/// down (halted, finished) records no stop, so its halt reason stays what `status` shows.
fn loop_running(bus: &Bus, units: &Units) -> Result<bool> {
    Ok(bus.unit(&units.service)?.is_up() || bus.unit(&units.timer)?.is_up())
}

/// Records the operator's stop in the journal, where `events` and `status` read the loop's story
/// (not in the mirror: that file belongs to the round's user).
fn record_stop(name: &str, now: bool) {
    let how = if now {
        "at once (`stop --now`)"
    } else {
        "after its running round"
    };
    let mut emitter = Emitter::new(name, None);
    emitter.quiet_terminal();
    emitter.emit(
        None,
        None,
        &format!("the operator stopped the loop {how}"),
        LoopStopped {},
    );
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// Stops the timer and path (no new round), then waits until the round service is down. A round
/// that fails meanwhile is not restarted (its pending auto-restart is cancelled).
pub(crate) fn stop_graceful(bus: &Bus, units: &Units) -> Result<(Duration, String)> {
    let started = Instant::now();
    let before = bus.unit(&units.service)?;
    stop_between_rounds(bus, units)?;
    let mut announced = false;
    let mut cancelled = false;
    loop {
        let info = bus.unit(&units.service)?;
        match (info.active_state.as_str(), info.sub_state.as_str()) {
            (_, "auto-restart") if !cancelled => {
                bus.stop_nowait(&units.service)?;
                cancelled = true;
            }
            ("inactive" | "failed", _) => break,
            _ if !announced && info.is_up() => {
                eprintln!(
                    "waiting for the running round of {} to finish (running for {}; `stop --now` ends it)",
                    units.service,
                    human_duration(
                        crate::time::now_us()
                            .saturating_sub(info.active_enter_us.max(info.state_change_us))
                            / 1_000_000
                    )
                );
                announced = true;
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // An automatic restart in the meantime would have pulled the timer and path back in.
    settle_stopped(bus, units)?;
    let note = if before.is_up() && before.sub_state != "auto-restart" {
        ", after the running round finished"
    } else {
        ""
    };
    Ok((started.elapsed(), note.to_string()))
}

/// Stops the round service at once (SIGTERM, then SIGKILL after TimeoutStopSec=).
pub(crate) fn stop_now(bus: &Bus, units: &Units) -> Result<(Duration, String)> {
    let started = Instant::now();
    let before = bus.unit(&units.service)?;
    stop_between_rounds(bus, units)?;
    job_done(&bus.stop(&units.service)?, bus, "stopping")?;
    settle_stopped(bus, units)?;
    let note = if before.is_up() {
        ", the running round was terminated"
    } else {
        ""
    };
    Ok((started.elapsed(), note.to_string()))
}

/// Stops the loop unit, the timer and the path unit (those that are up): no new round starts.
fn stop_between_rounds(bus: &Bus, units: &Units) -> Result<()> {
    for unit in units.between_rounds() {
        let info = bus.unit(unit)?;
        if info.load_state == "loaded" && info.is_up() {
            job_done(&bus.stop(unit)?, bus, "stopping")?;
        }
    }
    Ok(())
}

/// How long a stop or start waits for the step after the last round before it goes on anyway:
/// the step takes a tenth of a second, so this only bounds a step that hangs.
const AFTER_ROUND_WAIT: Duration = Duration::from_secs(30);

/// Stops the loop's units once more, after the step that follows the last round is done: that
/// step may park the loop on a back-off timer, and a timer it starts after our first stop would
/// bring a round back long after the stop returned.
fn settle_stopped(bus: &Bus, units: &Units) -> Result<()> {
    wait_for_after_round(bus, units)?;
    stop_between_rounds(bus, units)
}

/// Waits (bounded) until the step after the last round is done. A stop must not return before it
/// parks the loop; a start must not begin the new loop beside it, or a step judging the old
/// round (exit 78, a halting alert) would halt the new loop and cancel the start's own job.
fn wait_for_after_round(bus: &Bus, units: &Units) -> Result<()> {
    let deadline = Instant::now() + AFTER_ROUND_WAIT;
    for unit in &units.after_round {
        while after_round_pending(bus, unit)? && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(())
}

/// The after-round unit runs, or the round's end queued its start.
fn after_round_pending(bus: &Bus, unit: &str) -> Result<bool> {
    let (state, queued) = bus.activity(unit)?;
    Ok(queued || matches!(state.as_str(), "activating" | "active" | "deactivating"))
}

/// `agent-runner kill NAME`: SIGKILL to every process of the round, loop stopped.
pub(crate) fn kill(ctx: &Context, project: &ProjectRef) -> Result<u8> {
    let target = target_to_stop(ctx, project)?;
    let units = Units::of(&target.name);
    let bus = connect(ctx)?;
    let started = Instant::now();
    stop_between_rounds(&bus, &units)?;
    let before = bus.unit(&units.service)?;
    bus.kill(&units.service, nix::sys::signal::Signal::SIGKILL as i32)?;
    job_done(&bus.stop(&units.service)?, &bus, "stopping")?;
    settle_stopped(&bus, &units)?;
    crate::output::line(format_args!(
        "killed {} in {}{}",
        target.name,
        seconds(started.elapsed()),
        if before.is_up() {
            ""
        } else {
            " (no round was running)"
        }
    ))?;
    Ok(exit::OK)
}

/// `agent-runner enable NAME [--now]`.
pub(crate) fn enable(ctx: &Context, project: &ProjectRef, now: bool) -> Result<u8> {
    let target = target(ctx, project)?;
    let units = Units::of(&target.name);
    let bus = connect(ctx)?;
    require_loaded(&bus.unit(&units.service)?, &target.name, ctx.scope)?;
    let changes = bus.enable(&[units.service.as_str()])?;
    bus.reload()?;
    for line in &changes {
        crate::output::line(format_args!("{line}"))?;
    }
    crate::output::line(format_args!(
        "enabled {}: its loop starts at boot",
        target.name
    ))?;
    if now {
        return start(ctx, project);
    }
    Ok(exit::OK)
}

/// `agent-runner disable NAME [--now]`.
pub(crate) fn disable(ctx: &Context, project: &ProjectRef, now: bool) -> Result<u8> {
    let target = target_to_stop(ctx, project)?;
    let units = Units::of(&target.name);
    let bus = connect(ctx)?;
    let changes = bus.disable(&[units.service.as_str()])?;
    bus.reload()?;
    for line in &changes {
        crate::output::line(format_args!("{line}"))?;
    }
    crate::output::line(format_args!(
        "disabled {}: its loop no longer starts at boot",
        target.name
    ))?;
    if now {
        return stop(ctx, project, false);
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A start whose round stopped on a missing prompt says so in two plain lines, exit 78.
    #[test]
    fn a_failed_start_on_a_broken_project_says_why_with_exit_78() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("w");
        std::fs::create_dir_all(work.join(".git")).unwrap();
        let text = format!(
            "schema_version = 1\n[agent]\ncommand = [\"/bin/cat\"]\n[runtime]\nwork_dir = \"{}\"\n[prompt]\nfiles = [\"missing.md\"]\n",
            work.display()
        );
        let source = dir.path().join("demo.toml");
        let project = crate::config::load_str(&text, &source, Scope::System).unwrap();
        let target = Target {
            name: "demo".into(),
            project: Some(project),
        };
        let error = broken_config(&target).expect("a reason");
        assert_eq!(error.exit_code(), exit::CONFIG);
        let text = error.to_string();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(
            text.contains("demo cannot start: prompt file") && text.contains("hint: create it"),
            "{text}"
        );
        let remote = Target {
            name: "demo".into(),
            project: None,
        };
        assert!(broken_config(&remote).is_none());
    }
}
