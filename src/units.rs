//! The names of a project's units, computed here and nowhere else.
//!
//! A project NAME runs as instances of seven template units (`agent-runner@.service`, `.timer`,
//! `.path`, `agent-runner-loop@.service`, `agent-runner-halt@.service`,
//! `agent-runner-after@.service`, `agent-runner-after-failure@.service`), each with one generated
//! drop-in `UNIT.d/50-agent-runner.conf`, plus two transient units a long back-off creates
//! (`agent-runner-backoff@NAME.timer` and its `.service`). How they work together is
//! docs/architecture.md, "The loop on systemd".

use std::path::PathBuf;

/// The watch service: runs the detectors of every project between rounds (no instance: one
/// service watches them all).
pub(crate) const WATCH_SERVICE: &str = "agent-runner-watch.service";
/// The timer that starts [`WATCH_SERVICE`].
pub(crate) const WATCH_TIMER: &str = "agent-runner-watch.timer";

/// The notifier's template: one instance per project with notifications.
pub(crate) const NOTIFY_TEMPLATE: &str = "agent-runner-notify@.service";

/// The notifier of project `name`: `agent-runner-notify@NAME.service`.
pub(crate) fn notify_service(name: &str) -> String {
    format!("agent-runner-notify@{name}.service")
}

/// The drop-in file name inside each `UNIT.d/` directory.
pub(crate) const DROP_IN_NAME: &str = "50-agent-runner.conf";

/// The oneshot that rewrites node-exporter's textfile with the metrics of every project; the
/// after-round step starts it (system manager only).
pub(crate) const METRICS_TEXTFILE_SERVICE: &str = "agent-runner-metrics.service";

/// The `ListUnitsByPatterns` patterns that match every instance of every project.
pub(crate) const ALL_PROJECTS_PATTERNS: [&str; 4] = [
    "agent-runner@*",
    "agent-runner-halt@*",
    "agent-runner-loop@*",
    "agent-runner-backoff@*",
];

/// One of the units a project's loop is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// `agent-runner@NAME.service`: one round.
    Round,
    /// `agent-runner@NAME.timer`: the next round.
    Timer,
    /// `agent-runner@NAME.path`: the stop triggers.
    Path,
    /// `agent-runner-loop@NAME.service`: active while the loop runs (timer and path are part of
    /// it).
    Loop,
    /// `agent-runner-halt@NAME.service`: acts on a stop trigger.
    Halt,
    /// `agent-runner-after@NAME.service`: what follows a round that succeeded (back-off, halts,
    /// notifier).
    After,
    /// `agent-runner-after-failure@NAME.service`: the same after a round that failed. Two units,
    /// since systemd tells a unit how the round ended (`$MONITOR_*`) only when one source can
    /// trigger it.
    AfterFailure,
    /// `agent-runner-backoff@NAME.timer`: the transient timer a long back-off parks the loop on.
    BackoffTimer,
    /// `agent-runner-backoff@NAME.service`: what the back-off timer starts.
    BackoffService,
}

impl Unit {
    /// The units installed as templates, in rendering order (the back-off units are transient).
    pub(crate) const TEMPLATES: [Unit; 7] = [
        Unit::Round,
        Unit::Timer,
        Unit::Path,
        Unit::Loop,
        Unit::Halt,
        Unit::After,
        Unit::AfterFailure,
    ];

    /// Every unit: the templates' and the transient back-off units.
    fn all() -> impl Iterator<Item = Unit> {
        Unit::TEMPLATES
            .into_iter()
            .chain([Unit::BackoffTimer, Unit::BackoffService])
    }

    /// The part of the name before `@`.
    fn prefix(self) -> &'static str {
        match self {
            Unit::Round | Unit::Timer | Unit::Path => "agent-runner",
            Unit::Loop => "agent-runner-loop",
            Unit::Halt => "agent-runner-halt",
            Unit::After => "agent-runner-after",
            Unit::AfterFailure => "agent-runner-after-failure",
            Unit::BackoffTimer | Unit::BackoffService => "agent-runner-backoff",
        }
    }

    /// The unit type: the suffix after the last `.`.
    fn kind(self) -> &'static str {
        match self {
            Unit::Round
            | Unit::Loop
            | Unit::Halt
            | Unit::After
            | Unit::AfterFailure
            | Unit::BackoffService => "service",
            Unit::Timer | Unit::BackoffTimer => "timer",
            Unit::Path => "path",
        }
    }

    /// The instance of project `name`, e.g. `agent-runner@NAME.service`.
    pub(crate) fn of(self, name: &str) -> String {
        format!("{}@{name}.{}", self.prefix(), self.kind())
    }

    /// The template's file name, e.g. `agent-runner@.service`.
    pub(crate) fn template(self) -> String {
        self.of("")
    }

    /// A service's name as `journalctl -u` and `systemctl` accept it: without `.service`.
    pub(crate) fn short(self, name: &str) -> String {
        let full = self.of(name);
        match full.strip_suffix(".service") {
            Some(short) => short.to_string(),
            None => full,
        }
    }

    /// Which unit `unit` is, and of which project; `None` for a name that is none of ours.
    pub(crate) fn parse(unit: &str) -> Option<(Unit, &str)> {
        let (prefix, rest) = unit.split_once('@')?;
        let (name, kind) = rest.rsplit_once('.')?;
        Unit::all()
            .find(|u| u.prefix() == prefix && u.kind() == kind)
            .map(|u| (u, name))
    }
}

/// `UNIT.d/50-agent-runner.conf`: where the drop-in of `unit` lives, relative to a unit
/// directory.
pub(crate) fn drop_in_path(unit: &str) -> PathBuf {
    PathBuf::from(format!("{unit}.d")).join(DROP_IN_NAME)
}

/// The project of a unit instance: `agent-runner@NAME.service` → NAME; a name without an
/// instance comes back whole.
pub(crate) fn project_of(unit: &str) -> &str {
    unit.split_once('@')
        .and_then(|(_, rest)| rest.rsplit_once('.'))
        .map_or(unit, |(name, _)| name)
}

/// The unit names of one project's loop.
#[derive(Debug, Clone)]
pub(crate) struct Units {
    /// `agent-runner@NAME.service`: one round.
    pub service: String,
    /// `agent-runner@NAME.timer`: the next round.
    pub timer: String,
    /// `agent-runner@NAME.path`: the stop triggers.
    pub path: String,
    /// `agent-runner-halt@NAME.service`: acts on a stop trigger.
    pub halt: String,
    /// `agent-runner-loop@NAME.service`: active while the loop runs.
    pub loop_unit: String,
    /// `agent-runner-after@NAME.service` and `agent-runner-after-failure@NAME.service`: the
    /// step after each round.
    pub after_round: [String; 2],
    /// `agent-runner-backoff@NAME.timer`: the transient timer a long back-off parks the loop on.
    pub backoff: String,
    /// `agent-runner-backoff@NAME.service`: what the back-off timer starts.
    pub backoff_service: String,
}

impl Units {
    /// The units of project `name`.
    pub(crate) fn of(name: &str) -> Self {
        Self {
            service: Unit::Round.of(name),
            timer: Unit::Timer.of(name),
            path: Unit::Path.of(name),
            halt: Unit::Halt.of(name),
            loop_unit: Unit::Loop.of(name),
            after_round: [Unit::After.of(name), Unit::AfterFailure.of(name)],
            backoff: Unit::BackoffTimer.of(name),
            backoff_service: Unit::BackoffService.of(name),
        }
    }

    /// The four units every project has, service first.
    pub(crate) fn all(&self) -> [&str; 4] {
        [&self.service, &self.timer, &self.path, &self.halt]
    }

    /// The four units, the loop unit and the back-off timer.
    pub(crate) fn all_with_loop(&self) -> [&str; 6] {
        [
            &self.service,
            &self.timer,
            &self.path,
            &self.halt,
            &self.loop_unit,
            &self.backoff,
        ]
    }

    /// The units that keep the loop going between rounds: the loop unit (when the installed
    /// templates have it), the timer, a back-off timer and the path unit.
    pub(crate) fn between_rounds(&self) -> [&str; 4] {
        [&self.loop_unit, &self.timer, &self.backoff, &self.path]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names_use_the_project_name_as_instance() {
        let u = Units::of("my-proj.v2");
        assert_eq!(u.service, "agent-runner@my-proj.v2.service");
        assert_eq!(u.timer, "agent-runner@my-proj.v2.timer");
        assert_eq!(u.path, "agent-runner@my-proj.v2.path");
        assert_eq!(u.halt, "agent-runner-halt@my-proj.v2.service");
        assert_eq!(u.loop_unit, "agent-runner-loop@my-proj.v2.service");
        assert_eq!(
            Unit::After.of("my-proj.v2"),
            "agent-runner-after@my-proj.v2.service"
        );
        assert_eq!(u.backoff, "agent-runner-backoff@my-proj.v2.timer");
        assert_eq!(u.backoff_service, "agent-runner-backoff@my-proj.v2.service");
    }

    #[test]
    fn templates_and_drop_ins() {
        let names: Vec<String> = Unit::TEMPLATES.iter().map(|u| u.template()).collect();
        assert_eq!(
            names,
            [
                "agent-runner@.service",
                "agent-runner@.timer",
                "agent-runner@.path",
                "agent-runner-loop@.service",
                "agent-runner-halt@.service",
                "agent-runner-after@.service",
                "agent-runner-after-failure@.service",
            ]
        );
        assert_eq!(
            drop_in_path(&Unit::Round.of("demo")),
            PathBuf::from("agent-runner@demo.service.d/50-agent-runner.conf")
        );
        assert_eq!(Unit::Round.short("demo"), "agent-runner@demo");
    }

    #[test]
    fn names_parse_back() {
        for unit in Unit::all() {
            assert_eq!(Unit::parse(&unit.of("a.b")), Some((unit, "a.b")));
        }
        assert_eq!(Unit::parse("agent-runner@x.socket"), None);
        assert_eq!(Unit::parse("other@x.service"), None);
        assert_eq!(project_of("agent-runner-loop@my.proj.service"), "my.proj");
        assert_eq!(project_of("plain.service"), "plain.service");
    }
}
