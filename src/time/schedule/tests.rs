use super::*;
use crate::time::days_from_civil;
use crate::time::zone::Rule;

fn utc(y: i64, mo: i64, d: i64, h: i64, mi: i64) -> u64 {
    u64::try_from(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60).unwrap()
}

fn specs(texts: &[&str]) -> Vec<Spec> {
    texts.iter().map(|t| Spec::parse(t).unwrap()).collect()
}

fn berlin() -> Zone {
    Zone::from_rule(Rule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap())
}

fn utc_zone() -> Zone {
    Zone::from_rule(Rule::parse("UTC0").unwrap())
}

fn gate(run: &[&str], pause: &[&str], zone: &Zone, now: u64) -> Gate {
    let (run, pause) = (specs(run), specs(pause));
    Windows {
        run: &run,
        pause: &pause,
        zone,
    }
    .gate(now)
}

fn resumes(run: &[&str], pause: &[&str], zone: &Zone, now: u64) -> Option<u64> {
    match gate(run, pause, zone, now) {
        Gate::Open => panic!("open at {now}"),
        Gate::Closed(c) => c.resume_at,
    }
}

#[test]
fn windows_are_parsed_as_the_old_runner_wrote_them() {
    let s = Spec::parse("mon-fri 08:00-20:00").unwrap();
    assert_eq!((s.days, s.start, s.end), (0b001_1111, 480, 1200));
    assert_eq!(Spec::parse("sat,sun 00:00-24:00").unwrap().days, 0b110_0000);
    assert_eq!(Spec::parse("fri-mon 22:00-06:00").unwrap().days, 0b111_0001);
    assert_eq!(Spec::parse("22:00-06:00").unwrap().days, 0x7f);
    assert_eq!(
        Spec::parse("Mon,wed-thu 9:00-10:00").err().unwrap(),
        "\"9:00\" is not a time HH:MM"
    );
    for (bad, why) in [
        ("24:00-06:00", "only as the end"),
        ("08:00-08:00", "same time"),
        ("funday 08:00-09:00", "unknown day"),
        ("08:00", "expected HH:MM-HH:MM"),
        ("08:60-09:00", "not a time"),
        ("08:00-24:01", "not a time"),
        ("mon- 08:00-09:00", "unknown day"),
    ] {
        let e = Spec::parse(bad).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
    }
}

#[test]
fn no_windows_is_always_open() {
    assert_eq!(gate(&[], &[], &utc_zone(), 1_795_341_600), Gate::Open);
}

#[test]
fn a_window_wraps_past_midnight_from_the_day_it_starts() {
    let z = utc_zone();
    let run = ["mon-fri 22:00-06:00"];
    // 2026-11-28 is a Saturday: Friday's window still runs at 03:00.
    assert_eq!(gate(&run, &[], &z, utc(2026, 11, 28, 3, 0)), Gate::Open);
    // Saturday evening and Sunday night start no window: Monday 22:00 is next.
    let monday = utc(2026, 11, 30, 22, 0);
    assert_eq!(
        resumes(&run, &[], &z, utc(2026, 11, 28, 6, 0)),
        Some(monday)
    );
    assert_eq!(
        resumes(&run, &[], &z, utc(2026, 11, 29, 23, 0)),
        Some(monday)
    );
}

#[test]
fn twenty_four_hundred_ends_the_day() {
    let z = utc_zone();
    let run = ["sat 20:00-24:00"];
    assert_eq!(gate(&run, &[], &z, utc(2026, 11, 28, 23, 59)), Gate::Open);
    assert_eq!(
        resumes(&run, &[], &z, utc(2026, 11, 29, 0, 0)),
        Some(utc(2026, 12, 5, 20, 0))
    );
}

#[test]
fn a_pause_inside_a_run_window_closes_it() {
    let z = utc_zone();
    let (run, pause) = (["08:00-20:00"], ["12:00-13:00"]);
    assert_eq!(
        gate(&run, &pause, &z, utc(2026, 11, 28, 11, 59)),
        Gate::Open
    );
    let Gate::Closed(c) = gate(&run, &pause, &z, utc(2026, 11, 28, 12, 30)) else {
        panic!("open during the pause")
    };
    assert_eq!(c.pause.as_deref(), Some("12:00-13:00"));
    assert_eq!(c.resume_at, Some(utc(2026, 11, 28, 13, 0)));
    // After the run window, the pause's end is no opening: the next run window is.
    assert_eq!(
        resumes(&run, &pause, &z, utc(2026, 11, 28, 20, 0)),
        Some(utc(2026, 11, 29, 8, 0))
    );
    // A pause over the start of a run window delays the opening to its end.
    assert_eq!(
        resumes(&run, &["07:00-09:00"], &z, utc(2026, 11, 28, 6, 0)),
        Some(utc(2026, 11, 28, 9, 0))
    );
}

#[test]
fn a_pause_over_everything_has_no_opening_and_is_looked_at_again() {
    let now = utc(2026, 11, 28, 10, 0);
    let Gate::Closed(c) = gate(&[], &["00:00-24:00"], &utc_zone(), now) else {
        panic!("open under a pause of every day")
    };
    assert_eq!(c.resume_at, None);
    assert_eq!(c.recheck_at, now + 8 * 86_400);
    // Run windows on a day no longer in the week do not open either.
    let Gate::Closed(c) = gate(&["sat 08:00-09:00"], &["sat 00:00-24:00"], &utc_zone(), now) else {
        panic!("open")
    };
    assert_eq!(c.resume_at, None);
}

#[test]
fn a_window_the_clocks_skip_does_not_open_that_day() {
    // 2026-03-29: Berlin's clocks jump from 02:00 CET (01:00Z) to 03:00 CEST.
    let z = berlin();
    let midnight = utc(2026, 3, 28, 23, 0);
    // 02:00-03:00 does not occur that day: the next one is on the 30th, 02:00 CEST.
    assert_eq!(
        resumes(&["02:00-03:00"], &[], &z, midnight),
        Some(utc(2026, 3, 30, 0, 0))
    );
    // 02:30-04:00 opens when the clock jumps past 02:30, and runs to 04:00 CEST.
    assert_eq!(
        resumes(&["02:30-04:00"], &[], &z, midnight),
        Some(utc(2026, 3, 29, 1, 0))
    );
    assert_eq!(
        gate(&["02:30-04:00"], &[], &z, utc(2026, 3, 29, 1, 59)),
        Gate::Open
    );
    assert_ne!(
        gate(&["02:30-04:00"], &[], &z, utc(2026, 3, 29, 2, 0)),
        Gate::Open
    );
}

#[test]
fn a_window_the_clocks_repeat_lasts_both_readings() {
    // 2026-10-25: Berlin's clocks go back from 03:00 CEST (01:00Z) to 02:00 CET, so the wall
    // clock reads 02:00-03:00 from 00:00Z to 02:00Z.
    let z = berlin();
    let pause = ["02:00-03:00"];
    let Gate::Closed(c) = gate(&[], &pause, &z, utc(2026, 10, 25, 0, 0)) else {
        panic!("open at the first 02:00")
    };
    assert_eq!(c.resume_at, Some(utc(2026, 10, 25, 2, 0)));
    assert_ne!(gate(&[], &pause, &z, utc(2026, 10, 25, 1, 30)), Gate::Open);
    assert_eq!(gate(&[], &pause, &z, utc(2026, 10, 25, 2, 0)), Gate::Open);
    // A run window of summer time ends at the last reading of its end: 02:30 CET.
    assert_eq!(
        gate(&["01:00-02:30"], &[], &z, utc(2026, 10, 25, 1, 20)),
        Gate::Open
    );
    assert_ne!(
        gate(&["01:00-02:30"], &[], &z, utc(2026, 10, 25, 1, 30)),
        Gate::Open
    );
}

#[test]
fn the_opening_is_told_in_local_time() {
    assert_eq!(
        local_text(&berlin(), utc(2026, 11, 30, 7, 0)),
        "mon 2026-11-30 08:00"
    );
}
