//! The client against a stand-in for systemd on a private `dbus-daemon`: every call goes over
//! a real bus, with systemd's wire types (skipped where no dbus-daemon is installed).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use zbus::message::{Header, Type as MessageType};
use zbus::{OwnedObjectPath, Variant};

use super::*;

const UNIT_PATH: &str = "/org/freedesktop/systemd1/unit/demo";

/// A private bus: the daemon and its address. The daemon is killed on drop.
struct PrivateBus {
    daemon: Child,
    address: String,
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

fn private_bus() -> Option<PrivateBus> {
    let mut daemon = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut address = String::new();
    BufReader::new(daemon.stdout.take()?)
        .read_line(&mut address)
        .ok()?;
    let bus = PrivateBus {
        daemon,
        address: address.trim().to_string(),
    };
    (!bus.address.is_empty()).then_some(bus)
}

/// A connection whose calls fail after a while instead of waiting forever for a lost answer.
fn connect(address: &str) -> zbus::Connection {
    let builder =
        zbus::connection::Builder::address(address).method_timeout(Duration::from_secs(20));
    zbus::block_on(builder.build()).unwrap()
}

fn dict(entries: Vec<(&'static str, Variant<'static>)>) -> HashMap<&'static str, Variant<'static>> {
    entries.into_iter().collect()
}

fn properties(interface: &str) -> HashMap<&'static str, Variant<'static>> {
    let root = OwnedObjectPath::try_from("/").unwrap();
    match interface {
        UNIT_IFACE => dict(vec![
            ("Id", Variant::from("agent-runner@demo.service")),
            ("LoadState", Variant::from("loaded")),
            ("ActiveState", Variant::from("active")),
            ("SubState", Variant::from("running")),
            ("UnitFileState", Variant::from("enabled")),
            ("NeedDaemonReload", Variant::from(true)),
            ("DropInPaths", Variant::from(vec!["/etc/x.conf"])),
            ("InvocationID", Variant::from(vec![0x0f_u8, 0xa0])),
            ("ActiveEnterTimestamp", Variant::from(1_000_u64)),
            ("Job", Variant::from((0_u32, root))),
        ]),
        SERVICE_IFACE => dict(vec![
            ("Result", Variant::from("success")),
            ("MainPID", Variant::from(42_u32)),
            ("ExecMainStatus", Variant::from(0_i32)),
            ("ExecMainCode", Variant::from(0_i32)),
            ("NRestarts", Variant::from(1_u32)),
            (
                "ExecStart",
                Variant::from(vec![("/bin/x", vec!["/bin/x"], false)]),
            ),
        ]),
        _ => HashMap::new(),
    }
}

/// Answers one method call the way systemd would.
async fn answer(
    conn: &zbus::Connection,
    msg: &zbus::Message,
    asked: &Mutex<Vec<String>>,
) -> zbus::Result<()> {
    let header: Header<'_> = msg.header();
    let body = msg.body();
    let member = header.member().map(ToString::to_string).unwrap_or_default();
    match member.as_str() {
        "LoadUnit" => {
            conn.reply(&header, &OwnedObjectPath::try_from(UNIT_PATH)?)
                .await
        }
        "GetAll" => {
            let (interface,): (String,) = body.deserialize()?;
            conn.reply(&header, &properties(&interface)).await
        }
        "Get" => {
            let (interface, name): (String, String) = body.deserialize()?;
            match properties(&interface).remove(name.as_str()) {
                Some(value) => conn.reply(&header, &value).await,
                None => conn.reply(&header, &Variant::from("252.38-1")).await,
            }
        }
        "ListUnitsByPatterns" => {
            let path = OwnedObjectPath::try_from(UNIT_PATH)?;
            let root = OwnedObjectPath::try_from("/")?;
            let row = (
                "agent-runner@demo.service",
                "a round",
                "loaded",
                "active",
                "running",
                "",
                path,
                0_u32,
                "",
                root,
            );
            conn.reply(&header, &vec![row]).await
        }
        "Subscribe" => conn.reply(&header, &()).await,
        "Ref" | "Unref" => {
            let path = header.path().map(ToString::to_string).unwrap_or_default();
            asked.lock().unwrap().push(format!("{member} {path}"));
            conn.reply(&header, &()).await
        }
        "StartUnit" => {
            let (unit, _mode): (String, String) = body.deserialize()?;
            let job = OwnedObjectPath::try_from("/org/freedesktop/systemd1/job/7")?;
            conn.reply(&header, &job).await?;
            let removed = (7_u32, job, unit, "done");
            conn.emit_signal(
                None::<&str>,
                "/org/freedesktop/systemd1",
                "org.freedesktop.systemd1.Manager",
                "JobRemoved",
                &removed,
            )
            .await
        }
        "StartTransientUnit" => {
            // Decoding checks the shape systemd insists on: ssa(sv)a(sa(sv)).
            type Properties = Vec<(String, zbus::OwnedVariant)>;
            let (timer, _mode, props, aux): (
                String,
                String,
                Properties,
                Vec<(String, Properties)>,
            ) = body.deserialize()?;
            let names = |p: &Properties| {
                p.iter()
                    .map(|(n, _)| n.clone())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let mut units = vec![format!("{timer} {}", names(&props))];
            units.extend(aux.iter().map(|(unit, p)| format!("{unit} {}", names(p))));
            asked.lock().unwrap().extend(units);
            let job = OwnedObjectPath::try_from("/org/freedesktop/systemd1/job/8")?;
            conn.reply(&header, &job).await
        }
        "EnableUnitFiles" => {
            let changes = vec![("symlink", "/etc/a.wants/x", "/usr/lib/x")];
            conn.reply(&header, &(true, changes)).await
        }
        _ => Ok(()),
    }
}

/// Serves as `org.freedesktop.systemd1` on the bus at `address` until the bus goes away; the
/// transient units it is asked to start and the units it is asked to pin are noted in `asked`.
fn serve_fake_systemd(address: &str, asked: Arc<Mutex<Vec<String>>>) {
    let conn = connect(address);
    // The stream exists before the name does: no call to the name can arrive unseen.
    let mut stream = zbus::MessageStream::from(&conn);
    zbus::block_on(conn.request_name("org.freedesktop.systemd1")).unwrap();
    std::thread::spawn(move || {
        zbus::block_on(async {
            while let Some(Ok(msg)) = std::future::poll_fn(|cx| {
                futures_core::Stream::poll_next(Pin::new(&mut stream), cx)
            })
            .await
            {
                if msg.message_type() == MessageType::MethodCall
                    && let Err(e) = answer(&conn, &msg, &asked).await
                {
                    // An answer, so that the client fails instead of waiting forever.
                    let _ = conn
                        .reply_error(&msg.header(), "org.test.Failed", &e.to_string())
                        .await;
                }
            }
        });
    });
}

#[test]
fn the_client_speaks_systemds_wire_types() {
    let Some(bus) = private_bus() else {
        eprintln!("no dbus-daemon: skipped");
        return;
    };
    let asked = Arc::new(Mutex::new(Vec::new()));
    serve_fake_systemd(&bus.address, Arc::clone(&asked));
    let client = Bus::over(Scope::System, None, connect(&bus.address), None).unwrap();

    assert_eq!(client.version().unwrap(), "252.38-1");

    let info = client.unit("agent-runner@demo.service").unwrap();
    assert_eq!(info.name, "agent-runner@demo.service");
    assert_eq!(
        (info.load_state.as_str(), info.active_state.as_str()),
        ("loaded", "active")
    );
    assert_eq!(info.sub_state, "running");
    assert_eq!(info.unit_file_state, "enabled");
    assert!(info.need_daemon_reload);
    assert_eq!(info.drop_in_paths, ["/etc/x.conf"]);
    assert_eq!(info.invocation_id.as_deref(), Some("0fa0"));
    assert_eq!(info.active_enter_us, 1_000);
    assert_eq!(info.result, "success");
    assert_eq!(info.main_pid, Some(42));
    assert_eq!(info.n_restarts, Some(1));
    // Root pins the unit while reading it, at the path systemd gives it; others may not.
    let pinned = if nix::unistd::Uid::effective().is_root() {
        let path = "/org/freedesktop/systemd1/unit/agent_2drunner_40demo_2eservice";
        vec![format!("Ref {path}"), format!("Unref {path}")]
    } else {
        Vec::new()
    };
    assert_eq!(std::mem::take(&mut *asked.lock().unwrap()), pinned);

    assert_eq!(
        client.activity("agent-runner-loop@demo.service").unwrap(),
        ("active".to_string(), false)
    );

    let listed = client.list(&["agent-runner@*"]).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].info.sub_state, "running");
    assert_eq!(listed[0].path.as_str(), UNIT_PATH);
    let details = client.listed_units(&[&listed[0], &listed[0]]).unwrap();
    assert_eq!(details.len(), 2);
    assert_eq!(details[1].main_pid, Some(42));

    let job = client.start("agent-runner@demo.service").unwrap();
    assert_eq!(
        (job.unit.as_str(), job.result.as_str()),
        ("agent-runner@demo.service", "done")
    );

    let argv = ["/usr/bin/systemctl".to_string(), "start".into()];
    client
        .start_transient_timer(&TransientTimer {
            timer: "agent-runner-backoff@demo.timer",
            service: "agent-runner-backoff@demo.service",
            description: "backs off",
            fires_in: Duration::from_secs(90),
            part_of: "agent-runner-loop@demo.service",
            exec_start: &argv,
        })
        .unwrap();
    assert_eq!(
        *asked.lock().unwrap(),
        [
            "agent-runner-backoff@demo.timer Description,OnActiveSec,AccuracySec,RemainAfterElapse,PartOf",
            "agent-runner-backoff@demo.service Description,ExecStart,PartOf",
        ]
    );

    assert_eq!(
        client.enable(&["agent-runner@demo.service"]).unwrap(),
        ["created symlink /etc/a.wants/x → /usr/lib/x"]
    );
}
