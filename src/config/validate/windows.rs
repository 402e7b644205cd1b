//! `[schedule]`: run and pause windows and the zone they are read in.

use super::checker::Checker;
use super::spend::valid_timezone;
use crate::config::problems::echoed;
use crate::config::raw::RawSchedule;
use crate::config::windows::Schedule;
use crate::time::schedule::Spec;

/// A list longer than this is a generated mistake; the gate reads every window each round.
const MAX_WINDOWS: usize = 64;

pub(super) fn schedule(c: &mut Checker<'_, '_>, raw: &RawSchedule) -> Schedule {
    let timezone = raw
        .timezone
        .as_deref()
        .filter(|tz| valid_timezone(c, &["schedule", "timezone"], tz))
        .map(str::to_string);
    Schedule {
        run_windows: windows(c, "run_windows", &raw.run_windows),
        pause_windows: windows(c, "pause_windows", &raw.pause_windows),
        timezone,
    }
}

fn windows(c: &mut Checker<'_, '_>, key: &str, texts: &[String]) -> Vec<Spec> {
    let path = ["schedule", key];
    if texts.len() > MAX_WINDOWS {
        c.fail(
            &path,
            format!("at most {MAX_WINDOWS} windows, got {}", texts.len()),
        );
        return Vec::new();
    }
    let mut specs = Vec::new();
    for text in texts {
        match Spec::parse(text) {
            Ok(spec) => specs.push(spec),
            Err(why) => c.fail_hint(
                &path,
                format!("bad window \"{}\": {}", echoed(text), echoed(&why)),
                "write \"[DAYS ]HH:MM-HH:MM\", e.g. \"mon-fri 08:00-20:00\" or \"sat,sun 22:00-24:00\"",
            ),
        }
    }
    specs
}
