//! `[hooks]` and `[agent] exec_prefix` through `agent-runner round` by hand: hooks run around the
//! agent with its environment, their output in the round log; a failing pre_round hook skips the
//! agent and backs the loop off; a prefix wraps the agent.

use std::process::Command;

use crate::progress::Project;

#[test]
fn hooks_run_around_the_agent_with_its_environment_and_log() {
    let p = Project::new(
        "ok.sh",
        "[hooks]\npre_round = [[\"sh\", \"-c\", \"echo pre $AGENT_RUNNER_ROUND $AGENT_RUNNER_HOOK; echo from-the-hook > prompt-extra\"]]\npost_round = [[\"sh\", \"-c\", \"echo post $AGENT_RUNNER_OUTCOME; exit 4\"]]\ntimeout_s = 10",
    );
    assert_eq!(p.round(), 0);
    assert!(
        p.work().join("prompt-extra").exists(),
        "hooks run in work_dir"
    );
    let log = p.round_log(1);
    let pre = log.find("pre 1 pre_round").expect(&log);
    let agent = log.find("round=1 phase=").expect(&log);
    let post = log.find("post ok").expect(&log);
    assert!(pre < agent && agent < post, "{log}");
    assert!(
        log.contains("post_round hook 0 (sh) failed: exit code 4"),
        "{log}"
    );
    // A failed post_round hook is told and changes nothing.
    let failed = p.all("hook_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["hook"], "post_round");
    assert_eq!(failed[0]["exit_code"], 4);
    assert_eq!(failed[0]["round_skipped"], false);
    assert_eq!(p.all("round_end")[0]["outcome"], "ok");
    assert_eq!(p.state()["verdict"]["action"], "continue");
}

#[test]
fn a_failing_pre_round_hook_skips_the_agent_and_backs_off() {
    let p = Project::new(
        "ok.sh",
        "[hooks]\npre_round = [[\"sh\", \"-c\", \"echo not today; exit 1\"], [\"touch\", \"second-ran\"]]\n",
    );
    assert_eq!(p.round(), 75);
    assert!(p.all("agent_spawn").is_empty(), "{:?}", p.events());
    assert!(!p.work().join("second-ran").exists());
    let failed = &p.all("hook_failed")[0];
    assert_eq!(
        (&failed["hook"], &failed["index"], &failed["command"]),
        (&"pre_round".into(), &0.into(), &"sh".into())
    );
    assert_eq!(failed["round_skipped"], true);
    let end = &p.all("round_end")[0];
    assert_eq!(end["outcome"], "transient");
    assert_eq!(end["classification"], "pre_round_hook");
    assert!(p.round_log(1).contains("not today"));
    let st = p.state();
    assert_eq!(st["verdict"]["action"], "back_off");
    assert_eq!(
        st["rounds_this_loop"], 0,
        "a skipped round is no round of the agent's"
    );
    // The loop does not spin: the next round, started at once, waits out the back-off.
    assert_eq!(p.round(), 75);
    assert_eq!(p.all("round_end").len(), 1);
    assert_eq!(p.all("hook_failed").len(), 1);
}

#[test]
fn exec_prefix_wraps_the_agent() {
    let p = Project::new("ok.sh", "");
    let script = p.work().join("wrap.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"wrapped: $*\" > wrapped.txt\nexec \"$@\"\n",
    )
    .unwrap();
    Command::new("chmod")
        .args(["+x"])
        .arg(&script)
        .status()
        .unwrap();
    let toml = p.work().join("project.toml");
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("[agent]\n", "[agent]\nexec_prefix = [\"./wrap.sh\"]\n");
    std::fs::write(&toml, text).unwrap();
    assert_eq!(p.round(), 0);
    let wrapped = std::fs::read_to_string(p.work().join("wrapped.txt")).unwrap();
    assert!(wrapped.starts_with("wrapped: /"), "{wrapped}");
    assert!(wrapped.contains("tests/agents/ok.sh"), "{wrapped}");
    assert!(
        p.round_log(1).contains("Make the project better"),
        "the prompt reached the agent"
    );
}
