use super::*;
use crate::alerts::evidence::{DiskSeen, Liveness};
use crate::paths::Scope;
use crate::round::state::State;

/// A project with `[alerts]` lines `alerts` (and a 10 s delay, 60 s rounds).
fn project(alerts: &str) -> Project {
    let dir = std::env::temp_dir();
    let text = format!(
        "schema_version = 1\n[agent]\ncommand = [\"/bin/true\"]\n[runtime]\nwork_dir = \"{0}\"\nrestart_delay_s = 10\nround_timeout_s = 60\n[prompt]\nfiles = [\"{0}/p.md\"]\n[alerts]\n{alerts}\n",
        dir.display()
    );
    crate::config::load_str(&text, &dir.join("t.toml"), Scope::System).expect("valid project")
}

fn round(n: u64, outcome: &str) -> RoundSeen {
    RoundSeen {
        round: n,
        outcome: outcome.into(),
        ..RoundSeen::default()
    }
}

fn with_rounds(rounds: Vec<RoundSeen>) -> Inputs {
    Inputs {
        rounds: Some(rounds),
        ..Inputs::default()
    }
}

fn severity(finding: &Finding) -> Option<Severity> {
    match finding {
        Finding::Firing(s, _) => Some(*s),
        _ => None,
    }
}

#[test]
fn an_auth_failure_streak_halts_with_the_login_hint_until_a_round_authenticates() {
    let p = project("");
    let mut state = State {
        consecutive_auth_failures: p.runtime.auth_fail_halt_after,
        last_error: Some("401 ".repeat(100_000)),
        ..State::default()
    };
    let mut inputs = Inputs {
        state: Some(state.clone()),
        ..Inputs::default()
    };
    let Finding::Firing(Severity::Halt, evidence) = check(Detector::AuthFailureStreak, &inputs, &p)
    else {
        panic!("no halt");
    };
    assert_eq!(evidence.hint.as_deref(), Some(p.agent.auth_hint()));
    assert_eq!(evidence.excerpt.map(|e| e.chars().count()), Some(200));
    state.consecutive_auth_failures = 0;
    inputs.state = Some(state);
    assert!(matches!(
        check(Detector::AuthFailureStreak, &inputs, &p),
        Finding::Clear(_)
    ));
    inputs.state = None;
    assert_eq!(
        check(Detector::AuthFailureStreak, &inputs, &p),
        Finding::Unknown
    );
}

#[test]
fn disk_usage_warns_then_halts_at_the_configured_shares() {
    let p = project("disk_warn_percent = 50\ndisk_halt_percent = 80");
    let at = |used| Inputs {
        disks: vec![
            DiskSeen {
                path: "/var/log/x".into(),
                used_percent: Some(10),
            },
            DiskSeen {
                path: "/srv/x".into(),
                used_percent: used,
            },
        ],
        ..Inputs::default()
    };
    let f = check(Detector::DiskUsage, &at(Some(49)), &p);
    assert!(matches!(f, Finding::Clear(_)), "{f:?}");
    let f = check(Detector::DiskUsage, &at(Some(50)), &p);
    assert_eq!(severity(&f), Some(Severity::Warn));
    let Finding::Firing(Severity::Halt, e) = check(Detector::DiskUsage, &at(Some(80)), &p) else {
        panic!("no halt");
    };
    assert_eq!(e.path.as_deref(), Some("/srv/x"));
    assert_eq!((e.value, e.threshold), (Some(80), Some(80)));
    // The one measured directory decides.
    let f = check(Detector::DiskUsage, &at(None), &p);
    assert!(matches!(f, Finding::Clear(_)));
    assert_eq!(
        check(Detector::DiskUsage, &Inputs::default(), &p),
        Finding::Unknown
    );
}

#[test]
fn rates_count_the_window_and_need_a_few_rounds() {
    let p = project("window_rounds = 4\nnetwork_failure_percent = 50\ntimeout_percent = 75");
    let net = |n| RoundSeen {
        network: true,
        ..round(n, "transient")
    };
    // Two of the last four failed on the network: 50 %. The oldest round is out of the window.
    let inputs = with_rounds(vec![net(1), round(2, "ok"), net(3), round(4, "ok"), net(5)]);
    let Finding::Firing(Severity::Warn, e) = check(Detector::NetworkFailureRate, &inputs, &p)
    else {
        panic!("no warning");
    };
    assert_eq!(e.rounds, [3, 5]);
    assert_eq!(e.value, Some(50));
    let inputs = with_rounds(vec![net(1), round(2, "ok"), round(3, "ok"), round(4, "ok")]);
    assert!(matches!(
        check(Detector::NetworkFailureRate, &inputs, &p),
        Finding::Clear(_)
    ));
    // Two rounds say nothing yet, and unread events say nothing at all.
    let inputs = with_rounds(vec![net(1), net(2)]);
    assert_eq!(
        check(Detector::NetworkFailureRate, &inputs, &p),
        Finding::Unknown
    );
    assert_eq!(
        check(Detector::TimeoutRate, &Inputs::default(), &p),
        Finding::Unknown
    );
    let t = |n| round(n, "timeout");
    let inputs = with_rounds(vec![t(1), t(2), round(3, "ok"), t(4)]);
    assert_eq!(
        severity(&check(Detector::TimeoutRate, &inputs, &p)),
        Some(Severity::Warn)
    );
    let inputs = with_rounds(vec![t(1), round(2, "ok"), round(3, "ok"), t(4)]);
    assert_eq!(severity(&check(Detector::TimeoutRate, &inputs, &p)), None);
}

#[test]
fn stashes_and_errors_must_repeat_in_a_row() {
    let p = project("repeated_stashes = 2\nrepeated_error_rounds = 3");
    let stash = |n| RoundSeen {
        stashed: true,
        ..round(n, "ok")
    };
    let inputs = with_rounds(vec![stash(1), round(2, "ok"), stash(3), stash(4)]);
    let Finding::Firing(_, e) = check(Detector::RepeatedStashes, &inputs, &p) else {
        panic!("no warning");
    };
    assert_eq!(e.rounds, [3, 4]);
    let inputs = with_rounds(vec![stash(1), stash(2), round(3, "ok")]);
    assert_eq!(
        severity(&check(Detector::RepeatedStashes, &inputs, &p)),
        None
    );

    let failed = |n, text: &str| RoundSeen {
        excerpt: Some(text.into()),
        ..round(n, "crash")
    };
    let inputs = with_rounds(vec![
        failed(1, "boom"),
        failed(2, "boom"),
        failed(3, "boom"),
    ]);
    let Finding::Firing(_, e) = check(Detector::RepeatedError, &inputs, &p) else {
        panic!("no warning");
    };
    assert_eq!(e.excerpt.as_deref(), Some("boom"));
    let inputs = with_rounds(vec![
        failed(1, "boom"),
        failed(2, "bang"),
        failed(3, "boom"),
    ]);
    assert_eq!(severity(&check(Detector::RepeatedError, &inputs, &p)), None);
    let inputs = with_rounds(vec![failed(2, "boom"), failed(3, "boom")]);
    assert_eq!(severity(&check(Detector::RepeatedError, &inputs, &p)), None);
}

#[test]
fn a_loop_is_stale_when_its_timer_is_dead_or_rounds_stop_ending() {
    // Cadence 70 s, stale after 3 × 70 = 210 s.
    let p = project("");
    let now = 10_000;
    let state = |ended_at: u64| -> State {
        serde_json::from_value(serde_json::json!({"last_outcome": {
            "round": 1, "outcome": "ok", "exit_code": 0, "duration_ms": 1, "ended_at": ended_at
        }}))
        .unwrap()
    };
    let inputs = |live: Liveness, ended_at| Inputs {
        state: Some(state(ended_at)),
        liveness: Some(live),
        now,
        ..Inputs::default()
    };
    let waiting = Liveness {
        loop_active: true,
        loop_since: Some(1_000),
        round_running: false,
        timer_waiting: true,
    };
    assert!(matches!(
        check(Detector::StaleLoop, &inputs(waiting, now - 200), &p),
        Finding::Clear(_)
    ));
    let Finding::Firing(_, e) = check(Detector::StaleLoop, &inputs(waiting, now - 211), &p) else {
        panic!("not stale");
    };
    assert_eq!((e.value, e.threshold), (Some(211), Some(210)));
    let dead_timer = Liveness {
        timer_waiting: false,
        ..waiting
    };
    assert_eq!(
        severity(&check(Detector::StaleLoop, &inputs(dead_timer, now), &p)),
        Some(Severity::Warn)
    );
    let stopped = Liveness {
        loop_active: false,
        ..dead_timer
    };
    assert_eq!(
        severity(&check(Detector::StaleLoop, &inputs(stopped, 0), &p)),
        None
    );
    // After a round (no liveness asked), a round has just ended.
    let after_round = Inputs {
        liveness: None,
        ..inputs(waiting, 0)
    };
    assert!(matches!(
        check(Detector::StaleLoop, &after_round, &p),
        Finding::Clear(_)
    ));
}
