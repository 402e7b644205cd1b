# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_agent_runner_global_optspecs
    string join \n user H/host= color= h/help V/version
end

function __fish_agent_runner_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_agent_runner_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_agent_runner_using_subcommand
    set -l cmd (__fish_agent_runner_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c agent-runner -n "__fish_agent_runner_needs_command" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_needs_command" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_needs_command" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -s V -l version -d 'Print version'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "init" -d 'Write a new project file from a preset, with a prompts/ scaffold'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "import" -d 'Turn a cli-agent-runner 0.3.x agent-runner.toml into an agent-runner project file'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "check" -d 'Validate a project and run the startup battery; lists every problem (exit 0 or 78)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "generate" -d 'Render the systemd units of every project (or the named ones) and reload systemd'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "round" -d 'Run exactly one round of a project, by hand (the service runs the same round as agent-runner-round)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "checkin" -d 'Tell the running round that the agent is alive (for agents that are silent at first)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "start" -d 'Start a project\'s loop: round 1 now, the next ones after restart_delay_s'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "stop" -d 'Stop a project\'s loop gracefully: no new round starts, the running one finishes'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "restart" -d 'Restart a project\'s loop, whatever state it is in (failed, halted, offline)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "kill" -d 'Terminate the running round and stop the loop at once'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "enable" -d 'Start the project\'s loop at boot'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "disable" -d 'No longer start the project\'s loop at boot'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "status" -d 'One line per project (or details of one): state, round, last outcome, next round'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "peek" -d 'Everything known about one project: units, state, recent rounds, config drift'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "events" -d 'A project\'s events, from the journal (or the JSON mirror when the journal is unreadable)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "logs" -d 'Print the current round\'s log (or round N\'s)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "diagnose" -d 'Find what is wrong with a project, layer by layer, and say how to fix it'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "web" -d 'Serve the status page, the JSON API and Prometheus metrics over HTTP (started by agent-runner-web.socket, or in the foreground with --listen)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "metrics" -d 'Print the Prometheus metrics of every project (what /metrics of `web` serves)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "project-names" -d 'Print the project names of the config directory, one a line (what the shell completions offer for NAME)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "halt" -d 'The loop\'s helper steps (run by the units; not for interactive use)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "watch" -d 'Run the detectors of every project (or one) between rounds (agent-runner-watch.service)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "notify" -d 'Deliver the project\'s notifications ([notify]): what agent-runner-notify@NAME.service runs. With --test, send a test notification to every receiver now and say how each went'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "man" -d 'Write the man pages into DIR (used to build the package)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "catalog" -d 'Print the journal catalog of every event kind (packaging/agent-runner.catalog)'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "generator" -d 'Render every project file into systemd\'s generator directory (run by systemd as agent-runner-generator at boot and on daemon-reload; see systemd.generator(7))'
complete -c agent-runner -n "__fish_agent_runner_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand init" -s p -l preset -d 'The agent preset: claude, codex, gemini, aider, kimi, pi, qwen, or shell (any command)' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand init" -s d -l dir -d 'Write PROJECT.toml and prompts/ into DIR instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand init" -l work-dir -d 'The agent\'s working directory (a git repository); defaults to the current directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand init" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand init" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand init" -l force -d 'Overwrite the project file; the prompt (and the shell preset\'s example agent) only while they are still what init wrote'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand init" -l force-prompts -d 'Overwrite the prompt and the example agent even when they were edited'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand init" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand import" -s n -l name -d 'The project name (default: the basename of the old work_dir)' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand import" -s o -l output -d 'Write the new project file here instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand import" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand import" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand import" -l dry-run -d 'Print the new file on stdout and write nothing'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand import" -l json -d 'Print the report (and with --dry-run the new file) as JSON on stdout'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand import" -l force -d 'Replace an existing project file'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand import" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand check" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand check" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand check" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand check" -l json -d 'Print the verdict as JSON'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand check" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generate" -s c -l config -d 'Render the project in this TOML file' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generate" -s o -l output -d 'Write the complete unit set (templates included) into DIR; implies --no-reload' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generate" -l exec -d 'The agent-runner binary ExecStart= runs (default: the binary running this command)' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generate" -l systemd-version -d 'Target this systemd version instead of asking the running manager' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generate" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generate" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generate" -l dry-run -d 'Print what would be written, as ---PATH--- blocks, and change nothing'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generate" -l no-reload -d 'Do not ask systemd to reload its units after writing (the next generate without it reloads, even when it finds nothing to change)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generate" -l json -d 'Print what was done as JSON: per project the files written and unchanged and its startup-battery warnings, the templates, the stale files removed, the project files that do not load, and whether systemd was reloaded'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generate" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand round" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand round" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand round" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand round" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand round" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand checkin" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand checkin" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand checkin" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand checkin" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand start" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand start" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand start" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand start" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand stop" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand stop" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand stop" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand stop" -l now -d 'Terminate the running round too (cooperative signal, then kill)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand stop" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand stop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand restart" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand restart" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand restart" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand restart" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand restart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand kill" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand kill" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand kill" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand kill" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand kill" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand enable" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand enable" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand enable" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand enable" -l now -d 'Also start it now'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand enable" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand enable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand disable" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand disable" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand disable" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand disable" -l now -d 'Also stop it now'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand disable" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand disable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand status" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand status" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand status" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand status" -l json -d 'Print JSON'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand status" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand peek" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand peek" -l round -d 'Show this round instead of the latest' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand peek" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand peek" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand peek" -l log -d 'Include the tail of the round\'s log'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand peek" -l json -d 'Print JSON'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand peek" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand peek" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand events" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand events" -l kind -d 'Only events of this kind (repeatable), e.g. round_end' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand events" -l since -d 'Only events since this time (journalctl syntax: "1h ago", "2026-11-22 10:00")' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand events" -s n -l lines -d 'Show at most this many past events' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand events" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand events" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand events" -s f -l follow -d 'Keep printing new events as they happen'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand events" -l json -d 'One JSON object a line'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand events" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand events" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand logs" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand logs" -l round -d 'Which round (default: the running or latest one)' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand logs" -s n -l lines -d 'Show only the last N lines (found within the last 4 MiB of the log)' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand logs" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand logs" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand logs" -s f -l follow -d 'Keep printing as the log grows'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand logs" -l json -d 'One JSON object a line: {"round": N, "line": "..."}'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand logs" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand diagnose" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand diagnose" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand diagnose" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand diagnose" -l json -d 'Print JSON'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand diagnose" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand diagnose" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand web" -l listen -d 'Listen on ADDR (e.g. 127.0.0.1:8765) instead of the socket systemd passes' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand web" -l idle-exit -d 'Exit after SECS without a request (0: never) [default: 60 under socket activation, never with --listen]' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand web" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand web" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand web" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand web" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand metrics" -l textfile -d 'Replace FILE atomically instead (node-exporter\'s textfile collector reads /var/lib/prometheus/node-exporter/*.prom)' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand metrics" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand metrics" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand metrics" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand metrics" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand completions" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand completions" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand completions" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand project-names" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand project-names" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand project-names" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand project-names" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand halt" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand halt" -l step -d 'Which step: `trigger` (a stop trigger fired), `loop-start` or `after-round`' -r -f -a "trigger\t'agent-runner-halt@.service: record which stop trigger fired'
loop-start\t'agent-runner-loop@.service: clear the previous loop\'s sentinels, start a new loop'
after-round\t'agent-runner-after@.service: what follows a round (back-off, halts, notifier)'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand halt" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand halt" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand halt" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand halt" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand watch" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand watch" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand watch" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand watch" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand notify" -s c -l config -d 'Read the project from this TOML file instead of the config directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand notify" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand notify" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand notify" -l test -d 'Send a made-up `notify_test` event to every receiver (nothing remembered, no event)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand notify" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand notify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand man" -l output -d 'Output directory' -r -F
complete -c agent-runner -n "__fish_agent_runner_using_subcommand man" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand man" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand man" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand catalog" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand catalog" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand catalog" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand catalog" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generator" -s H -l host -d 'Control a remote host over SSH ([USER@]HOST), as `systemctl -H` does: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it' -r
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generator" -l color -d 'Colour the output: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set to anything but the empty string'
always\t'Always, even into a pipe (for `less -R`)'
never\t'Never'"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generator" -l user -d 'Use the calling user\'s systemd manager and ~/.config/agent-runner instead of the system\'s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generator" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "init" -d 'Write a new project file from a preset, with a prompts/ scaffold'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "import" -d 'Turn a cli-agent-runner 0.3.x agent-runner.toml into an agent-runner project file'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "check" -d 'Validate a project and run the startup battery; lists every problem (exit 0 or 78)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "generate" -d 'Render the systemd units of every project (or the named ones) and reload systemd'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "round" -d 'Run exactly one round of a project, by hand (the service runs the same round as agent-runner-round)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "checkin" -d 'Tell the running round that the agent is alive (for agents that are silent at first)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "start" -d 'Start a project\'s loop: round 1 now, the next ones after restart_delay_s'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "stop" -d 'Stop a project\'s loop gracefully: no new round starts, the running one finishes'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "restart" -d 'Restart a project\'s loop, whatever state it is in (failed, halted, offline)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "kill" -d 'Terminate the running round and stop the loop at once'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "enable" -d 'Start the project\'s loop at boot'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "disable" -d 'No longer start the project\'s loop at boot'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "status" -d 'One line per project (or details of one): state, round, last outcome, next round'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "peek" -d 'Everything known about one project: units, state, recent rounds, config drift'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "events" -d 'A project\'s events, from the journal (or the JSON mirror when the journal is unreadable)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "logs" -d 'Print the current round\'s log (or round N\'s)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "diagnose" -d 'Find what is wrong with a project, layer by layer, and say how to fix it'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "web" -d 'Serve the status page, the JSON API and Prometheus metrics over HTTP (started by agent-runner-web.socket, or in the foreground with --listen)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "metrics" -d 'Print the Prometheus metrics of every project (what /metrics of `web` serves)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "completions" -d 'Print a shell completion script'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "project-names" -d 'Print the project names of the config directory, one a line (what the shell completions offer for NAME)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "halt" -d 'The loop\'s helper steps (run by the units; not for interactive use)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "watch" -d 'Run the detectors of every project (or one) between rounds (agent-runner-watch.service)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "notify" -d 'Deliver the project\'s notifications ([notify]): what agent-runner-notify@NAME.service runs. With --test, send a test notification to every receiver now and say how each went'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "man" -d 'Write the man pages into DIR (used to build the package)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "catalog" -d 'Print the journal catalog of every event kind (packaging/agent-runner.catalog)'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "generator" -d 'Render every project file into systemd\'s generator directory (run by systemd as agent-runner-generator at boot and on daemon-reload; see systemd.generator(7))'
complete -c agent-runner -n "__fish_agent_runner_using_subcommand help; and not __fish_seen_subcommand_from init import check generate round checkin start stop restart kill enable disable status peek events logs diagnose web metrics completions project-names halt watch notify man catalog generator help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'

# Project names for the NAME arguments, from `agent-runner [--user] project-names`.
function __fish_agent_runner_projects
    set -l words (commandline -opc)
    for word in $words
        switch $word
            case -H --host '--host=*' -c --config '--config=*'
                return 1
        end
    end
    # The binary is named, not taken from the line, which may start with `sudo`.
    if contains -- --user $words
        agent-runner --user project-names 2>/dev/null
    else
        agent-runner project-names 2>/dev/null
    end
end
complete -c agent-runner -n "__fish_agent_runner_using_subcommand check" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand round" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand start" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand stop" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand restart" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand kill" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand enable" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand disable" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand status" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand peek" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand events" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand logs" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand diagnose" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand notify" -f -a "(__fish_agent_runner_projects)"
complete -c agent-runner -n "__fish_agent_runner_using_subcommand generate" -f -a "(__fish_agent_runner_projects)"
