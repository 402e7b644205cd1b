//! The event kinds agent-runner emits, each written once here: its `AGENT_RUNNER_EVENT` name (the
//! variant in snake_case), its journal MESSAGE_ID, its priority and its catalog text. The catalog
//! ([`super::catalog`]) is rendered from this table; the payload each kind carries is in
//! [`super::payload`].

/// Journal priorities used by events (syslog levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priority {
    /// 3: something failed and needs an operator.
    Error = 3,
    /// 4: something went wrong but the loop copes.
    Warning = 4,
    /// 6: normal operation.
    Info = 6,
}

/// Everything a kind is besides its variant.
#[derive(Debug)]
struct Entry {
    name: &'static str,
    message_id: &'static str,
    priority: Priority,
    title: &'static str,
    description: &'static str,
}

macro_rules! kinds {
    ($( $variant:ident, $name:literal, $id:literal, $prio:ident, $title:literal, $desc:literal; )*) => {
        /// Every event kind agent-runner emits, in catalog order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum Kind {
            $(
                #[doc = $title]
                $variant,
            )*
        }

        impl Kind {
            /// Every kind, in catalog order.
            pub(crate) const ALL: &[Kind] = &[$(Kind::$variant),*];

            fn entry(self) -> &'static Entry {
                match self {
                    $( Kind::$variant => &Entry {
                        name: $name,
                        message_id: $id,
                        priority: Priority::$prio,
                        title: $title,
                        description: $desc,
                    }, )*
                }
            }
        }
    };
}

kinds! {
    RoundStart, "round_start", "10408c604938495f9a2e5d5c0c21072f", Info,
        "A round started",
        "agent-runner started round N of the project (phase P when the project has phases). The startup battery passed and the prompt was assembled. Nothing to do.";
    AgentSpawn, "agent_spawn", "a0863b098d23443389358a6cd8add822", Info,
        "The agent was started",
        "The agent process was spawned in its own process group with the round's timeout. Its output streams to LOG_DIR/rounds/round-N.log (LOG_DIR/round-current.log follows the running round).";
    AgentCheckin, "agent_checkin", "ebcd00ea8c054ba59c402437b86a48b7", Info,
        "The agent checked in",
        "The agent showed life (its first output, or an explicit `agent-runner checkin`) within checkin_timeout_s. The service reported READY=1. Nothing to do.";
    CheckinFailed, "checkin_failed", "efc3c425a2414aadb7606ebfba6a5dda", Warning,
        "The agent did not check in",
        "The agent produced no output and did not run `agent-runner checkin` within checkin_timeout_s, so the round was killed and counted as failed. After checkin_attempts such rounds in a row the project is marked offline. Check that the agent starts at all (`agent-runner logs NAME`), that its credentials are valid, and that the network is reachable; raise checkin_timeout_s if the agent is legitimately slow to print.";
    AgentExit, "agent_exit", "223412dc818f46d28075759f72034c79", Info,
        "The agent exited",
        "The agent process ended. The event carries its exit code (or the signal that ended it), how long it ran and why it ended (exit, timeout, grace_kill, checkin_failed, interrupted).";
    RoundEnd, "round_end", "c3c4d635070049ba80d4fedf9df9cb32", Info,
        "A round ended",
        "The round finished and was classified: ok, crash, timeout, grace_kill, transient, auth_fail, config_broken, no_checkin or stopped. The event carries the exit status, duration, the verdict for the loop (continue, back_off until T, halt) and the runner's own peak memory. Look at `agent-runner logs NAME --round N` for the agent's output.";
    RoundTimeoutKill, "round_timeout_kill", "f2849b99de1c4cb69c4ed7103b248c89", Warning,
        "A round hit its hard timeout",
        "The agent ran longer than round_timeout_s (or its phase's timeout) and its process group was terminated: the cooperative signal is skipped, SIGTERM then SIGKILL after a grace. If rounds regularly need longer, raise round_timeout_s; if the agent hangs, look at the end of its round log.";
    RoundGraceKill, "round_grace_kill", "d4cb16540baf441a821f46114952759a", Info,
        "A finished agent lingered and was stopped",
        "The agent printed its terminal marker (its final result) but did not exit within max_grace_after_result_s, and no live worker process remained in its group, so the group was terminated. The round's work is complete; the round counts as successful.";
    RoundGraceExtended, "round_grace_extended", "47511820d96d4abaa3b9efc7969a243c", Warning,
        "A finished agent still has live workers",
        "The agent printed its terminal marker but processes in its group are still running (listed in the event), so agent-runner keeps waiting until the hard timeout instead of killing work in progress. If these processes are harmless helpers, add a regex matching their command line to grace_kill_ignore_patterns.";
    RoundInterrupted, "round_interrupted", "8ef36dc510c546a992de5f86fafc2690", Warning,
        "A round was stopped by a signal",
        "agent-runner received SIGTERM or SIGINT (for example `systemctl stop`), sent the agent its cooperative stop signal, then SIGTERM and SIGKILL to whatever remained. The round is recorded as stopped and does not count as a crash.";
    TransientErrorDetected, "transient_error_detected", "832caca6fb234653b0835303cce033a6", Warning,
        "The agent hit a transient error",
        "The agent's output shows a rate limit, a server error (5xx/529), a request timeout or a network failure. With transient_error_action = back_off the loop pauses until the server-given reset time (reset_at) or the class's default back-off, then resumes by itself; nothing to do unless it keeps happening.";
    TransientErrorRecovered, "transient_error_recovered", "df734bf251f0424c9d7e4957b691ef1e", Info,
        "The back-off after a transient error ended",
        "The first round after a transient back-off is running. The event says which class of error caused the pause and how long the loop was throttled. Nothing to do.";
    TransientErrorStop, "transient_error_stop", "3b8eee4bd192400fbfc9a2af4701869d", Warning,
        "The loop stopped on a transient error",
        "transient_error_action = stop: the loop halts at the first transient error instead of backing off. Start it again with `systemctl start agent-runner@NAME` when the limit has reset.";
    AgentRetrying, "agent_retrying", "84b6c36909dc4a55a8b8517ff0bc06b2", Warning,
        "The agent is retrying a failed request",
        "The agent CLI reported that a request to its model provider failed (a rate limit, a server error, an authentication error) and that it is retrying by itself, waiting between attempts. One event marks the start of each such burst of retries (the service's STATUS line follows the attempts); the round goes on. A round whose retries end in success is ok; one whose retries give up is classified by the final error. If rounds keep spending minutes here, look at the provider's limits or status.";
    AgentUsageRecorded, "agent_usage_recorded", "f2117c09d3aa4f71bd5d84f8ee56c2b6", Info,
        "The agent reported its token usage",
        "The agent's final record carried usage: input, output and cache tokens, cost in USD and the model. Fields the agent did not report, or reported as nonsense, are left out rather than guessed.";
    AgentAuthErrorDetected, "agent_auth_error_detected", "1c423d73716f4537bd07c6483aff3edf", Error,
        "The agent could not authenticate",
        "The agent failed with an authentication error (HTTP 401, invalid API key, expired OAuth token). Retrying will not help: renew the credential (systemd credential file named in [agent.credentials], or the agent's own login) and start the loop again.";
    AgentNetworkErrorDetected, "agent_network_error_detected", "b8e8df28138c43b5a71609d9e2647377", Warning,
        "The agent could not reach the network",
        "The agent failed with a network error (connection refused or reset, DNS failure, unreachable network). The round is treated as transient and retried after a back-off. If it persists, check the host's connectivity and proxy settings.";
    DirtyDetected, "dirty_detected", "06325c62c5e04653bf279d376cc2bcf6", Info,
        "The agent left uncommitted changes",
        "After the round the work tree had uncommitted or untracked files (the first 20 are listed), and [vcs] dirty_action says what happens next: stash stashes them, commit commits them (with dirty_action = ignore git is not consulted at all). The project config, log_dir, the state directory and vcs.protect paths are never touched.";
    DirtyStashed, "dirty_stashed", "06525984854b44978958504d3e3ae303", Info,
        "Uncommitted changes were stashed",
        "dirty_action = stash: the agent's leftovers were stashed. The event carries the stash commit SHA; restore with `git stash apply SHA` (stash@{N} numbers shift, the SHA does not).";
    DirtyCommitted, "dirty_committed", "88194530075c4fa98fc53af389defb8f", Info,
        "Uncommitted changes were committed",
        "dirty_action = commit: the agent's leftovers were committed locally (never pushed). The event carries the commit SHA.";
    DirtyActionFailed, "dirty_action_failed", "709d89bdd58a4e5989c0935c1791d8da", Warning,
        "The dirty-tree action failed",
        "git could not inspect, stash or commit the work tree (the reason is in the event: a lock file, a hook, a missing identity). The tree was left as it is. Fix the repository by hand; the next round tries again.";
    CrashLoop, "crash_loop", "5ae1c77791df428fb958f42b7fa377e2", Error,
        "The agent keeps crashing: loop halted",
        "crash_loop_threshold rounds in a row ended with a non-zero exit in less than short_crash_s, with escalating delays in between, so the loop was halted instead of respawning forever. The event carries a redacted tail of the last round's log. Fix the cause, then `systemctl start agent-runner@NAME`.";
    AuthFailed, "auth_failed", "56e6e8b1cbb44b9fb8d22870c4a0d281", Error,
        "The agent keeps failing to authenticate: loop halted",
        "auth_fail_halt_after rounds in a row failed to authenticate with the model provider (HTTP 401, an invalid API key, an expired login), so the loop was halted instead of retrying with a credential that does not work. The event carries the last error and a hint for the agent CLI: which credential to renew or which login command to run as the user rounds run as. Fix the credential, then `systemctl start agent-runner@NAME`.";
    ProjectOffline, "project_offline", "efaa206c42464cf4a87548bed6137e11", Error,
        "The agent never checked in: project offline",
        "checkin_attempts rounds in a row failed to check in within checkin_timeout_s, so the project was marked offline and its loop halted (last_error in the state says why). Run the agent command by hand in work_dir to see what it does, then start the loop again.";
    ConfigBroken, "config_broken", "341eb4be426c4bf58faa536a24a4ab7d", Error,
        "The project configuration is broken",
        "The startup battery failed (invalid TOML, missing prompt, work_dir not a git repository, agent not on PATH, unwritable log_dir, unreadable credential). The round exits 78 and is never retried. Run `agent-runner check NAME` for the details and fix the file.";
    MaxRoundsReached, "max_rounds_reached", "0add6b79776246fca33caad6a5fcb550", Info,
        "The loop reached max_rounds",
        "The loop ran max_rounds rounds and stops as configured. Start it again to run another batch.";
    StopFileDetected, "stop_file_detected", "51bae8012bcc4d9a8cf8a5668e0e4e06", Info,
        "The operator's stop file appeared",
        "The file named by stop_file exists, so the loop stopped; the running round was allowed to finish. Deleting the file does not resume the loop: delete it and start the loop again.";
    AgentSelfTerminated, "agent_self_terminated", "0a4dbd5ba1c54061ac4af84b5e4635f4", Info,
        "The agent declared its work done",
        "The agent wrote $AGENT_RUNNER_LOG_DIR/.agent-done (its content, up to 200 characters, is the reason) and the loop stopped. Starting the loop again clears the file.";
    LoopStarted, "loop_started", "d03601caa37848c8b7f49a708ddb95e9", Info,
        "The project's loop started",
        "The loop of rounds began: the round counter for max_rounds and the crash and check-in counters start from zero.";
    LoopStopped, "loop_stopped", "9ebfd678459a4bf090bb15e6611e1064", Info,
        "The project's loop stopped",
        "The loop was stopped (by the operator or a stop trigger); no further round is scheduled until it is started again.";
    LoopHalted, "loop_halted", "65e9067813284ae8bd35d3755bd9ec81", Warning,
        "The project's loop was halted",
        "A round asked for the loop to halt (crash loop, offline, authentication failures, config broken, max_rounds, transient stop) and the halt machinery stopped the loop's units. The reason is in the event; see the event that preceded it for details.";
    RoundSkipped, "round_skipped", "1ac13adf56864a2c9e49c1affa868952", Info,
        "A round did not run its agent",
        "The round found a stop trigger (stop_file or .agent-done) before spawning the agent and exited without running it. The halt machinery stops the loop.";
    RoundOrphansKilled, "round_orphans_killed", "6c4fb7b258c1438799862369d5875b48", Warning,
        "Processes outlived the agent and were killed",
        "The agent exited but left processes behind (background jobs, daemons). They were terminated so that nothing of a round outlives it. If an agent relies on such processes, it should wait for them before exiting.";
    StateRecovered, "state_recovered", "41b6b7d9c08a4fbc9650e67a566ea9f6", Warning,
        "The round counter was recovered from the disk",
        "The state file could not be believed: it was unreadable or not a state file (the agent's user can write the state directory), its round counter could not advance, or the counter was behind the round logs already on disk. The counter was recovered from the highest LOG_DIR/rounds/round-N.log or the newest events of LOG_DIR/events.jsonl (the event says what was wrong and which one), so that no round log is written twice; the recovered state was saved. The crash, check-in and back-off counters of an unreadable file start afresh. Nothing to do unless it happens again: then find out what writes the state directory.";
    BudgetExhausted, "budget_exhausted", "f328b317c04b49b182f8de0182c9e303", Warning,
        "A spend budget is used up",
        "The project (or its shared provider account) spent its budget for the window, or the next round's projected cost (the median of recent rounds) would cross it by more than overshoot_pct. The event names the budget, the spend, the limit and when the window resets: the loop is parked until then and resumes by itself (budget_window_reset). For loop_usd there is no reset: the loop halts and needs `agent-runner start`. Raise the budget in [budget] (or the account's file) to resume sooner.";
    BudgetWindowReset, "budget_window_reset", "1a662910dab54e52a69370a119bc7aef", Info,
        "A budget window reset and the loop resumed",
        "The window of the budget that had parked the loop (day, month or hour) ended; this round is the first after the park. Nothing to do.";
    CostSpike, "cost_spike", "47f217981d8340aa8bb1457206b39a69", Warning,
        "A round cost far more than usual",
        "The round cost more than spike_factor times the median of the recent rounds. With spike_action = \"halt\" the loop halted; otherwise this is an alert. Look at the round's log for what the agent did (a runaway tool loop, a much larger context, another model).";
    LedgerRebuilt, "ledger_rebuilt", "c57c0bf08308452f803e44538d52c911", Warning,
        "The spend ledger was rebuilt",
        "STATE/ledger.json could not be believed (unreadable, not a ledger, impossible amounts, a link; the agent's user can write the state directory). The spend was recovered from the costs the events mirror recorded for recent rounds. If it happens again, find out what writes the state directory: the journal's round_end events keep the true costs.";
    AccountThrottled, "account_throttled", "0f24697bb5784ca98fdbed46b39ee9f9", Warning,
        "A shared provider account hit its limit",
        "A project sharing this project's provider account ([agent] account) was rejected with an account-wide limit (five-hour window, quota). This project's loop is parked until the provider's reset, staggered after the other projects of the account, without starting its agent. It resumes by itself. This covers the projects of one host only.";
    RoundSummary, "round_summary", "dcba0a3df8fb49389a29c4354b62e938", Info,
        "One round in one line",
        "How the round went: its outcome, duration, tokens and cost, spend against the budgets, and why the loop continues, waits or stops. Nothing to do.";
    AlertRaised, "alert_raised", "df2542516a504be0b0e942e468f55453", Warning,
        "A detector raised an alert",
        "One of agent-runner's detectors, run after every round and by agent-runner-watch.timer between rounds, saw the loop go wrong: an authentication failure streak, a high network failure or timeout rate, a nearly full disk, a stale loop (no round ended for too long, or a dead timer), repeated stashes or the same error several rounds running. The event carries the detector, the severity (warn, or halt when the loop is halted for it) and the evidence; the alert stays open, shown by `agent-runner status`, until the detector sees it cleared. Thresholds are set in the project's [alerts] table.";
    AlertCleared, "alert_cleared", "81033ffca10744bf887848ad334cb0bf", Info,
        "An alert cleared",
        "The detector that raised an alert no longer sees its cause (a round authenticated, the rate fell under its threshold, space was freed, a round ended). The event carries the detector and the evidence that cleared it. Nothing to do.";
    RoundProgress, "round_progress", "58b3cd66246a4603b8008e5c5c8a8ac7", Info,
        "What the round changed",
        "With [progress] configured, git was asked after the round what changed since the previous one: commits, files changed, lines inserted and deleted, HEAD and a content hash of the work tree (tracked and untracked, non-ignored files; the project's own files left out), and how many rounds in a row changed nothing or the same thing. When git could not tell (the reason is in the event), the round counts as one without progress. Nothing to do.";
    GoalCheckResult, "goal_check_result", "94a0096c72d04dceb33ff1eaaab2bafb", Info,
        "A goal check ran",
        "One of the [[goal.checks]] ran after the round in work_dir as the rounds' user; its output is in the round log. A check passes when it exits 0 within timeout_s; one that runs longer is killed with its process group and fails. When every check passes, the loop ends with goal_reached.";
    StalledNoProgress, "stalled_no_progress", "0614e487632244bb8f854dda28594a9c", Warning,
        "Rounds achieve nothing: loop halted",
        "stall_rounds rounds in a row ended with no new commit and no change to the work tree, so the loop was halted instead of paying for more such rounds. Look at the round logs for what the agent did, change the prompt or the task, then `systemctl start agent-runner@NAME`.";
    RepeatingDiff, "repeating_diff", "35c6de1b563e43048a8c2012aa180130", Warning,
        "Rounds repeat the same change: loop halted",
        "repeat_rounds rounds in a row started from the same work tree and left the same change (a change that is stashed or reverted and then made again), so the loop was halted. The event names the change as two tree ids (`git diff FROM TO` shows it). Find out why the change does not stick, then `systemctl start agent-runner@NAME`.";
    GoalReached, "goal_reached", "4fdc690b25024a74bb8234e7207b0c4b", Info,
        "Every goal check passed: loop done",
        "Every one of the [[goal.checks]] passed after a round, so the loop ended as done, like an agent writing .agent-done but decided by the operator's checks. Starting the loop again runs more rounds (and the checks after each).";
    NotifySent, "notify_sent", "cadcdf531006410eb9ae580990d7aa51", Info,
        "A notification was delivered",
        "agent-runner-notify@NAME.service delivered an event of the kinds [notify] on names to every receiver of the project (its command, its webhook). The event names the kind delivered and the receivers; a webhook is shown by scheme, host and port only, since its path or query may be its secret. Nothing to do.";
    NotifyFailed, "notify_failed", "7d6adcb6d2864b1c89fd5d7b548b5406", Warning,
        "A notification could not be delivered",
        "A receiver of [notify] could not be reached, timed out or refused the event (the error says which: a refused connection, an HTTP status, the command's exit status). Nothing was lost: the notifier keeps its place in the journal and systemd starts it again after a back-off (Restart=on-failure of agent-runner-notify@NAME.service), and the end of the next round starts it too, so the event is delivered once the receiver is back. Check the receiver, or `agent-runner notify NAME --test`.";
    SchedulePaused, "schedule_paused", "77998d7fcb6b49599dcd03eae46daf75", Info,
        "The loop waits for its schedule window",
        "A round found the time outside every [schedule] run window, or inside a pause window, and did not start its agent. The loop is parked until the next window opens (resume_at, in the zone the event names) and resumes by itself with schedule_resumed; told once per pause. When no window opens within the 8 days searched (a pause that covers every day), resume_at is absent and the loop looks again at recheck_at. Change [schedule] and run `agent-runner generate` to start sooner.";
    ScheduleResumed, "schedule_resumed", "de3b6136a0d04ead892ce42ac96a4ac9", Info,
        "A schedule window opened and the loop resumed",
        "The first round after a schedule pause started its agent; paused_for_s says how long the loop waited. Nothing to do.";
    RoundOom, "round_oom", "05188066999c46899dc3692c12745fc0", Warning,
        "The kernel killed a round for memory",
        "systemd ended the round service with the result oom-kill: the kernel's OOM killer killed a process of the round because it went past [limits] memory_max (or the host ran out of memory). The after-round step recorded the round as oom in place of what the runner had recorded (stopped, crash), which the event names, and counts such rounds in a row; [limits] oom_rounds of them halt the loop (mem_loop). Raise memory_max or find what the agent runs that needs the memory.";
    MemLoop, "mem_loop", "5075c8e3a71143658983d8974c46145c", Error,
        "Rounds keep running out of memory: loop halted",
        "[limits] oom_rounds rounds in a row were killed by the kernel for memory (systemd's result oom-kill), so the loop was halted instead of starting the same round into the same wall. Raise [limits] memory_max, or change what the agent is asked to do, then `systemctl start agent-runner@NAME`.";
    HookFailed, "hook_failed", "ff3dcc17d4ae4ad0839eef8f53b4d153", Warning,
        "A [hooks] command failed",
        "A command of [hooks] pre_round or post_round exited non-zero, was killed by a signal, ran past [hooks] timeout_s (its process group was killed) or could not be started; the event names the list, the hook's place in it (from 0) and its program, and its output is in the round log. A failed pre_round hook skips the round: no agent is started, the round ends transient (classification pre_round_hook) and the loop backs off like after a transient error, restart_delay_s doubling with each failure in a row up to 30 minutes, so a hook that keeps failing neither spins the loop nor halts it. A failed post_round hook changes nothing about the round. Run the hook by hand as the project's user in its work_dir to see why.";
}

impl Kind {
    /// The `AGENT_RUNNER_EVENT` value: the variant in snake_case.
    pub(crate) fn name(self) -> &'static str {
        self.entry().name
    }

    /// The journal MESSAGE_ID (32 lowercase hex digits, generated once with `systemd-id128 new`).
    pub(crate) fn message_id(self) -> &'static str {
        self.entry().message_id
    }

    /// The journal priority.
    pub(crate) fn priority(self) -> Priority {
        self.entry().priority
    }

    /// The catalog's one-line title.
    pub(crate) fn title(self) -> &'static str {
        self.entry().title
    }

    /// The catalog paragraph: what happened and what to do.
    pub(crate) fn description(self) -> &'static str {
        self.entry().description
    }

    /// The kind named `name`; `None` for a name this version does not know (a newer version's).
    pub(crate) fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.name() == name)
    }
}

/// A kind as a query names it: one this version knows, or a name it does not (`events --kind` of
/// a kind a newer version logged), which is still matched by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KindName {
    /// A kind of this version.
    Known(Kind),
    /// Any other name.
    Other(String),
}

impl KindName {
    /// The kind named `name`, known or not.
    pub(crate) fn parse(name: &str) -> Self {
        Kind::from_name(name).map_or_else(|| KindName::Other(name.to_string()), KindName::Known)
    }

    /// The name as the journal and the mirror spell it.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            KindName::Known(kind) => kind.name(),
            KindName::Other(name) => name,
        }
    }
}

impl From<Kind> for KindName {
    fn from(kind: Kind) -> Self {
        KindName::Known(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// `RoundEnd` → `round_end`.
    fn snake_case(camel: &str) -> String {
        let mut out = String::new();
        for c in camel.chars() {
            if c.is_ascii_uppercase() && !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }

    #[test]
    fn kinds_are_unique_and_well_formed() {
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for &kind in Kind::ALL {
            let name = kind.name();
            assert_eq!(kind.message_id().len(), 32, "{name}");
            assert!(
                kind.message_id()
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
            assert!(ids.insert(kind.message_id()), "duplicate id for {name}");
            assert!(names.insert(name), "duplicate name {name}");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(
                kind.description().len() > 40,
                "{name} needs a catalog paragraph"
            );
        }
    }

    #[test]
    fn the_variant_and_its_name_agree() {
        for &kind in Kind::ALL {
            assert_eq!(kind.name(), snake_case(&format!("{kind:?}")));
            assert_eq!(Kind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(Kind::from_name("kind_of_a_newer_version"), None);
    }

    #[test]
    fn unknown_names_stay_names() {
        assert_eq!(
            KindName::parse("round_end"),
            KindName::Known(Kind::RoundEnd)
        );
        let other = KindName::parse("kind_of_a_newer_version");
        assert_eq!(other.as_str(), "kind_of_a_newer_version");
    }
}
