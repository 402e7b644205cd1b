//! The units of a project as systemd reports them, read with as few D-Bus calls as the command
//! allows: one listing for every project, and details only for the units whose details are shown.

use serde::Serialize;

use crate::error::Result;
use crate::systemd::bus::{Bus, ListedUnit, UnitInfo};
use crate::units::{self, Unit, Units};

/// The units of a project, as systemd reports them (`None`: unknown to systemd).
#[derive(Debug, Clone, Serialize, Default)]
pub(crate) struct UnitStates {
    /// The round service.
    pub service: Option<UnitInfo>,
    /// The timer.
    pub timer: Option<UnitInfo>,
    /// The path unit.
    pub path: Option<UnitInfo>,
    /// The halt helper.
    pub halt: Option<UnitInfo>,
    /// The loop unit (active while the loop runs), when the installed templates have one.
    #[serde(rename = "loop")]
    pub loop_unit: Option<UnitInfo>,
    /// The transient back-off timer, while a long back-off parks the loop on it.
    pub backoff: Option<UnitInfo>,
}

impl UnitStates {
    /// The units of `project`. `listed` holds the units systemd has loaded (from one
    /// `ListUnitsByPatterns` for every project): units not in it cost no call, and of the others
    /// only the service and the timer are asked for more than their states.
    pub(crate) fn read(bus: &Bus, project: &str, listed: Option<&[ListedUnit]>) -> Result<Self> {
        let names = Units::of(project);
        // One project alone: one listing of its own units, so that only the service and the
        // timer cost more calls (LoadUnit for each unit would triple them).
        let own;
        let (listed, single) = if let Some(l) = listed {
            (l, false)
        } else {
            own = bus.list(&names.all_with_loop())?;
            (own.as_slice(), true)
        };
        let fetch = |unit: &str, detail: bool| -> Result<Option<UnitInfo>> {
            match listed.iter().find(|l| l.info.name == unit) {
                // Not loaded: for the service of a single project, ask systemd to load it, which
                // tells "not-found" (never generated) from "inactive".
                None if single && unit == names.service => bus.unit(unit).map(Some),
                None => Ok(None),
                Some(l) if detail && !l.detailed => bus.listed_unit(l).map(Some),
                Some(l) => Ok(Some(l.info.clone())),
            }
        };
        let loaded = |unit: Option<UnitInfo>| unit.filter(|u| u.load_state == "loaded");
        Ok(Self {
            service: fetch(&names.service, true)?,
            timer: fetch(&names.timer, true)?,
            path: fetch(&names.path, false)?,
            halt: fetch(&names.halt, false)?,
            loop_unit: loaded(fetch(&names.loop_unit, false)?),
            backoff: loaded(fetch(&names.backoff, true)?),
        })
    }

    /// The units with a label each, in the order the reports list them.
    pub(crate) fn labelled(&self) -> [(&'static str, &Option<UnitInfo>); 6] {
        [
            ("service", &self.service),
            ("timer", &self.timer),
            ("path", &self.path),
            ("halt", &self.halt),
            ("loop", &self.loop_unit),
            ("backoff", &self.backoff),
        ]
    }
}

/// The loaded agent-runner units of a manager, with the details of every round service and
/// timer fetched concurrently: what [`UnitStates::read`] wants for many projects at once.
pub(crate) fn loaded_units_in_detail(bus: &Bus) -> Result<Vec<ListedUnit>> {
    let mut loaded = bus.list(&units::ALL_PROJECTS_PATTERNS)?;
    let wanted: Vec<&ListedUnit> = loaded
        .iter()
        .filter(|l| {
            matches!(
                Unit::parse(&l.info.name),
                Some((
                    Unit::Round | Unit::Timer | Unit::BackoffTimer | Unit::BackoffService,
                    _
                ))
            )
        })
        .collect();
    let details = bus.listed_units(&wanted)?;
    for info in details {
        if let Some(l) = loaded.iter_mut().find(|l| l.info.name == info.name) {
            l.info = info;
            l.detailed = true;
        }
    }
    Ok(loaded)
}
