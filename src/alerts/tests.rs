use super::*;
use crate::alerts::evidence::DiskSeen;
use crate::paths::Scope;

fn project() -> Project {
    let dir = std::env::temp_dir();
    let text = format!(
        "schema_version = 1\n[agent]\ncommand = [\"/bin/true\"]\n[runtime]\nwork_dir = \"{0}\"\n[prompt]\nfiles = [\"{0}/p.md\"]\n",
        dir.display()
    );
    crate::config::load_str(&text, &dir.join("t.toml"), Scope::System).expect("valid project")
}

fn disk_at(used: u64) -> Inputs {
    Inputs {
        disks: vec![DiskSeen {
            path: "/srv/t".into(),
            used_percent: Some(used),
        }],
        now: 1_800_000_000,
        ..Inputs::default()
    }
}

#[test]
fn an_alert_is_raised_once_escalated_once_and_cleared_once() {
    let p = project();
    let mut open = OpenAlerts::default();
    let raised = apply(&p, &disk_at(91), &mut open);
    assert!(
        matches!(&raised[..], [Change::Raised(a)] if a.detector == Detector::DiskUsage && a.severity == Severity::Warn)
    );
    assert_eq!(open.alerts[0].since, "2027-01-15T08:00:00Z");
    // Still firing at the same severity: the evidence follows, no new event.
    assert!(apply(&p, &disk_at(92), &mut open).is_empty());
    assert_eq!(open.alerts[0].evidence.value, Some(92));
    assert!(halting(&open).is_none());
    // Worse: raised again, as a halt, and the loop must halt for it.
    let worse = apply(&p, &disk_at(96), &mut open);
    assert!(matches!(&worse[..], [Change::Raised(a)] if a.severity == Severity::Halt));
    assert_eq!(
        halting(&open).map(|a| a.detector),
        Some(Detector::DiskUsage)
    );
    // Unknown keeps it open; clear closes it.
    assert!(apply(&p, &Inputs::default(), &mut open).is_empty());
    assert_eq!(open.alerts.len(), 1);
    let cleared = apply(&p, &disk_at(40), &mut open);
    assert!(
        matches!(&cleared[..], [Change::Cleared(Detector::DiskUsage, e)] if e.summary.contains("40%"))
    );
    assert!(open.alerts.is_empty());
}

#[test]
fn the_round_s_own_auth_halt_is_not_halted_for_again() {
    let open = OpenAlerts {
        alerts: vec![Alert {
            detector: Detector::AuthFailureStreak,
            severity: Severity::Halt,
            evidence: Evidence::default(),
            since: String::new(),
            round: None,
        }],
    };
    assert!(halting(&open).is_none());
}
