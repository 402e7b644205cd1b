#compdef agent-runner

autoload -U is-at-least

_agent-runner() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_agent-runner_commands" \
"*::: :->agent-runner" \
&& ret=0
    case $state in
    (agent-runner)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:agent-runner-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
'-p+[The agent preset\: claude, codex, gemini, aider, kimi, pi, qwen, or shell (any command)]:PRESET:_default' \
'--preset=[The agent preset\: claude, codex, gemini, aider, kimi, pi, qwen, or shell (any command)]:PRESET:_default' \
'-d+[Write PROJECT.toml and prompts/ into DIR instead of the config directory]:DIR:_files' \
'--dir=[Write PROJECT.toml and prompts/ into DIR instead of the config directory]:DIR:_files' \
'--work-dir=[The agent'\''s working directory (a git repository); defaults to the current directory]:DIR:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--force[Overwrite the project file; the prompt (and the shell preset'\''s example agent) only while they are still what init wrote]' \
'--force-prompts[Overwrite the prompt and the example agent even when they were edited]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':project -- The new project'\''s name (also its unit instance name):_default' \
&& ret=0
;;
(import)
_arguments "${_arguments_options[@]}" : \
'-n+[The project name (default\: the basename of the old work_dir)]:NAME:_default' \
'--name=[The project name (default\: the basename of the old work_dir)]:NAME:_default' \
'-o+[Write the new project file here instead of the config directory]:FILE:_files' \
'--output=[Write the new project file here instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--dry-run[Print the new file on stdout and write nothing]' \
'--json[Print the report (and with --dry-run the new file) as JSON on stdout]' \
'--force[Replace an existing project file]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':file -- The old runner'\''s project file (agent-runner.toml):_files' \
&& ret=0
;;
(check)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--json[Print the verdict as JSON]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name; omit it to cover every project in the config directory:_agent_runner_projects' \
&& ret=0
;;
(generate)
_arguments "${_arguments_options[@]}" : \
'()-c+[Render the project in this TOML file]:FILE:_files' \
'()--config=[Render the project in this TOML file]:FILE:_files' \
'-o+[Write the complete unit set (templates included) into DIR; implies --no-reload]:DIR:_files' \
'--output=[Write the complete unit set (templates included) into DIR; implies --no-reload]:DIR:_files' \
'--exec=[The agent-runner binary ExecStart= runs (default\: the binary running this command)]:PATH:_files' \
'--systemd-version=[Target this systemd version instead of asking the running manager]:N:_default' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--dry-run[Print what would be written, as ---PATH--- blocks, and change nothing]' \
'--no-reload[Do not ask systemd to reload its units after writing (the next generate without it reloads, even when it finds nothing to change)]' \
'(--dry-run)--json[Print what was done as JSON\: per project the files written and unchanged and its startup-battery warnings, the templates, the stale files removed, the project files that do not load, and whether systemd was reloaded]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'*::names -- Projects to render; all projects in the config directory when omitted:_agent_runner_projects' \
&& ret=0
;;
(round)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(checkin)
_arguments "${_arguments_options[@]}" : \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(start)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(stop)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--now[Terminate the running round too (cooperative signal, then kill)]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(restart)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(kill)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(enable)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--now[Also start it now]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(disable)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--now[Also stop it now]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--json[Print JSON]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name; omit it to cover every project in the config directory:_agent_runner_projects' \
&& ret=0
;;
(peek)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'--round=[Show this round instead of the latest]:N:_default' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--log[Include the tail of the round'\''s log]' \
'--json[Print JSON]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(events)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'*--kind=[Only events of this kind (repeatable), e.g. round_end]:KIND:_default' \
'--since=[Only events since this time (journalctl syntax\: "1h ago", "2026-11-22 10\:00")]:TIME:_default' \
'-n+[Show at most this many past events]:N:_default' \
'--lines=[Show at most this many past events]:N:_default' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'-f[Keep printing new events as they happen]' \
'--follow[Keep printing new events as they happen]' \
'--json[One JSON object a line]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(logs)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'--round=[Which round (default\: the running or latest one)]:N:_default' \
'-n+[Show only the last N lines (found within the last 4 MiB of the log)]:N:_default' \
'--lines=[Show only the last N lines (found within the last 4 MiB of the log)]:N:_default' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'-f[Keep printing as the log grows]' \
'--follow[Keep printing as the log grows]' \
'--json[One JSON object a line\: {"round"\: N, "line"\: "..."}]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(diagnose)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--json[Print JSON]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(web)
_arguments "${_arguments_options[@]}" : \
'--listen=[Listen on ADDR (e.g. 127.0.0.1\:8765) instead of the socket systemd passes]:ADDR:_default' \
'--idle-exit=[Exit after SECS without a request (0\: never) \[default\: 60 under socket activation, never with --listen\]]:SECS:_default' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(metrics)
_arguments "${_arguments_options[@]}" : \
'--textfile=[Replace FILE atomically instead (node-exporter'\''s textfile collector reads /var/lib/prometheus/node-exporter/*.prom)]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':shell -- The shell:((bash\:"GNU bash"
zsh\:"Z shell"
fish\:"fish"))' \
&& ret=0
;;
(project-names)
_arguments "${_arguments_options[@]}" : \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(halt)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'--step=[Which step\: \`trigger\` (a stop trigger fired), \`loop-start\` or \`after-round\`]:STEP:((trigger\:"agent-runner-halt@.service\: record which stop trigger fired"
loop-start\:"agent-runner-loop@.service\: clear the previous loop'\''s sentinels, start a new loop"
after-round\:"agent-runner-after@.service\: what follows a round (back-off, halts, notifier)"))' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(watch)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name; omit it to cover every project in the config directory:_agent_runner_projects' \
&& ret=0
;;
(notify)
_arguments "${_arguments_options[@]}" : \
'()-c+[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'()--config=[Read the project from this TOML file instead of the config directory]:FILE:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--test[Send a made-up \`notify_test\` event to every receiver (nothing remembered, no event)]' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'::name -- The project name (its file is /etc/agent-runner/NAME.toml, or ~/.config/agent-runner with --user):_agent_runner_projects' \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
'--output=[Output directory]:DIR:_files' \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(catalog)
_arguments "${_arguments_options[@]}" : \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
&& ret=0
;;
(generator)
_arguments "${_arguments_options[@]}" : \
'-H+[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--host=[Control a remote host over SSH (\[USER@\]HOST), as \`systemctl -H\` does\: status, peek, events, logs and diagnose run there, start/stop/restart/kill/enable/disable talk to its manager; the other commands refuse it]:[USER@]HOST:_default' \
'--color=[Colour the output\: auto (on a terminal, unless NO_COLOR is set), always, or never. JSON is never coloured]:WHEN:((auto\:"On a terminal, unless NO_COLOR is set to anything but the empty string"
always\:"Always, even into a pipe (for \`less -R\`)"
never\:"Never"))' \
'--user[Use the calling user'\''s systemd manager and ~/.config/agent-runner instead of the system'\''s]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'*::dirs -- The normal, early and late output directories systemd passes (only the first is used):_files' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_agent-runner__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:agent-runner-help-command-$line[1]:"
        case $line[1] in
            (init)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(import)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(check)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(generate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(round)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(checkin)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(start)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(stop)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(restart)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(kill)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(enable)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(disable)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(peek)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(events)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(logs)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(diagnose)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(web)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(metrics)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(project-names)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(halt)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(watch)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(notify)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(catalog)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(generator)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_agent-runner_commands] )) ||
_agent-runner_commands() {
    local commands; commands=(
'init:Write a new project file from a preset, with a prompts/ scaffold' \
'import:Turn a cli-agent-runner 0.3.x agent-runner.toml into an agent-runner project file' \
'check:Validate a project and run the startup battery; lists every problem (exit 0 or 78)' \
'generate:Render the systemd units of every project (or the named ones) and reload systemd' \
'round:Run exactly one round of a project, by hand (the service runs the same round as agent-runner-round)' \
'checkin:Tell the running round that the agent is alive (for agents that are silent at first)' \
'start:Start a project'\''s loop\: round 1 now, the next ones after restart_delay_s' \
'stop:Stop a project'\''s loop gracefully\: no new round starts, the running one finishes' \
'restart:Restart a project'\''s loop, whatever state it is in (failed, halted, offline)' \
'kill:Terminate the running round and stop the loop at once' \
'enable:Start the project'\''s loop at boot' \
'disable:No longer start the project'\''s loop at boot' \
'status:One line per project (or details of one)\: state, round, last outcome, next round' \
'peek:Everything known about one project\: units, state, recent rounds, config drift' \
'events:A project'\''s events, from the journal (or the JSON mirror when the journal is unreadable)' \
'logs:Print the current round'\''s log (or round N'\''s)' \
'diagnose:Find what is wrong with a project, layer by layer, and say how to fix it' \
'web:Serve the status page, the JSON API and Prometheus metrics over HTTP (started by agent-runner-web.socket, or in the foreground with --listen)' \
'metrics:Print the Prometheus metrics of every project (what /metrics of \`web\` serves)' \
'completions:Print a shell completion script' \
'project-names:Print the project names of the config directory, one a line (what the shell completions offer for NAME)' \
'halt:The loop'\''s helper steps (run by the units; not for interactive use)' \
'watch:Run the detectors of every project (or one) between rounds (agent-runner-watch.service)' \
'notify:Deliver the project'\''s notifications (\[notify\])\: what agent-runner-notify@NAME.service runs. With --test, send a test notification to every receiver now and say how each went' \
'man:Write the man pages into DIR (used to build the package)' \
'catalog:Print the journal catalog of every event kind (packaging/agent-runner.catalog)' \
'generator:Render every project file into systemd'\''s generator directory (run by systemd as agent-runner-generator at boot and on daemon-reload; see systemd.generator(7))' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'agent-runner commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__catalog_commands] )) ||
_agent-runner__subcmd__catalog_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner catalog commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__check_commands] )) ||
_agent-runner__subcmd__check_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner check commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__checkin_commands] )) ||
_agent-runner__subcmd__checkin_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner checkin commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__completions_commands] )) ||
_agent-runner__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner completions commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__diagnose_commands] )) ||
_agent-runner__subcmd__diagnose_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner diagnose commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__disable_commands] )) ||
_agent-runner__subcmd__disable_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner disable commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__enable_commands] )) ||
_agent-runner__subcmd__enable_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner enable commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__events_commands] )) ||
_agent-runner__subcmd__events_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner events commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__generate_commands] )) ||
_agent-runner__subcmd__generate_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner generate commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__generator_commands] )) ||
_agent-runner__subcmd__generator_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner generator commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__halt_commands] )) ||
_agent-runner__subcmd__halt_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner halt commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help_commands] )) ||
_agent-runner__subcmd__help_commands() {
    local commands; commands=(
'init:Write a new project file from a preset, with a prompts/ scaffold' \
'import:Turn a cli-agent-runner 0.3.x agent-runner.toml into an agent-runner project file' \
'check:Validate a project and run the startup battery; lists every problem (exit 0 or 78)' \
'generate:Render the systemd units of every project (or the named ones) and reload systemd' \
'round:Run exactly one round of a project, by hand (the service runs the same round as agent-runner-round)' \
'checkin:Tell the running round that the agent is alive (for agents that are silent at first)' \
'start:Start a project'\''s loop\: round 1 now, the next ones after restart_delay_s' \
'stop:Stop a project'\''s loop gracefully\: no new round starts, the running one finishes' \
'restart:Restart a project'\''s loop, whatever state it is in (failed, halted, offline)' \
'kill:Terminate the running round and stop the loop at once' \
'enable:Start the project'\''s loop at boot' \
'disable:No longer start the project'\''s loop at boot' \
'status:One line per project (or details of one)\: state, round, last outcome, next round' \
'peek:Everything known about one project\: units, state, recent rounds, config drift' \
'events:A project'\''s events, from the journal (or the JSON mirror when the journal is unreadable)' \
'logs:Print the current round'\''s log (or round N'\''s)' \
'diagnose:Find what is wrong with a project, layer by layer, and say how to fix it' \
'web:Serve the status page, the JSON API and Prometheus metrics over HTTP (started by agent-runner-web.socket, or in the foreground with --listen)' \
'metrics:Print the Prometheus metrics of every project (what /metrics of \`web\` serves)' \
'completions:Print a shell completion script' \
'project-names:Print the project names of the config directory, one a line (what the shell completions offer for NAME)' \
'halt:The loop'\''s helper steps (run by the units; not for interactive use)' \
'watch:Run the detectors of every project (or one) between rounds (agent-runner-watch.service)' \
'notify:Deliver the project'\''s notifications (\[notify\])\: what agent-runner-notify@NAME.service runs. With --test, send a test notification to every receiver now and say how each went' \
'man:Write the man pages into DIR (used to build the package)' \
'catalog:Print the journal catalog of every event kind (packaging/agent-runner.catalog)' \
'generator:Render every project file into systemd'\''s generator directory (run by systemd as agent-runner-generator at boot and on daemon-reload; see systemd.generator(7))' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'agent-runner help commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__catalog_commands] )) ||
_agent-runner__subcmd__help__subcmd__catalog_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help catalog commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__check_commands] )) ||
_agent-runner__subcmd__help__subcmd__check_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help check commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__checkin_commands] )) ||
_agent-runner__subcmd__help__subcmd__checkin_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help checkin commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__completions_commands] )) ||
_agent-runner__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help completions commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__diagnose_commands] )) ||
_agent-runner__subcmd__help__subcmd__diagnose_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help diagnose commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__disable_commands] )) ||
_agent-runner__subcmd__help__subcmd__disable_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help disable commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__enable_commands] )) ||
_agent-runner__subcmd__help__subcmd__enable_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help enable commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__events_commands] )) ||
_agent-runner__subcmd__help__subcmd__events_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help events commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__generate_commands] )) ||
_agent-runner__subcmd__help__subcmd__generate_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help generate commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__generator_commands] )) ||
_agent-runner__subcmd__help__subcmd__generator_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help generator commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__halt_commands] )) ||
_agent-runner__subcmd__help__subcmd__halt_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help halt commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__help_commands] )) ||
_agent-runner__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help help commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__import_commands] )) ||
_agent-runner__subcmd__help__subcmd__import_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help import commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__init_commands] )) ||
_agent-runner__subcmd__help__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help init commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__kill_commands] )) ||
_agent-runner__subcmd__help__subcmd__kill_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help kill commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__logs_commands] )) ||
_agent-runner__subcmd__help__subcmd__logs_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help logs commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__man_commands] )) ||
_agent-runner__subcmd__help__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help man commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__metrics_commands] )) ||
_agent-runner__subcmd__help__subcmd__metrics_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help metrics commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__notify_commands] )) ||
_agent-runner__subcmd__help__subcmd__notify_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help notify commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__peek_commands] )) ||
_agent-runner__subcmd__help__subcmd__peek_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help peek commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__project-names_commands] )) ||
_agent-runner__subcmd__help__subcmd__project-names_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help project-names commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__restart_commands] )) ||
_agent-runner__subcmd__help__subcmd__restart_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help restart commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__round_commands] )) ||
_agent-runner__subcmd__help__subcmd__round_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help round commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__start_commands] )) ||
_agent-runner__subcmd__help__subcmd__start_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help start commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__status_commands] )) ||
_agent-runner__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help status commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__stop_commands] )) ||
_agent-runner__subcmd__help__subcmd__stop_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help stop commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__watch_commands] )) ||
_agent-runner__subcmd__help__subcmd__watch_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help watch commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__help__subcmd__web_commands] )) ||
_agent-runner__subcmd__help__subcmd__web_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner help web commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__import_commands] )) ||
_agent-runner__subcmd__import_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner import commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__init_commands] )) ||
_agent-runner__subcmd__init_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner init commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__kill_commands] )) ||
_agent-runner__subcmd__kill_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner kill commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__logs_commands] )) ||
_agent-runner__subcmd__logs_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner logs commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__man_commands] )) ||
_agent-runner__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner man commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__metrics_commands] )) ||
_agent-runner__subcmd__metrics_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner metrics commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__notify_commands] )) ||
_agent-runner__subcmd__notify_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner notify commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__peek_commands] )) ||
_agent-runner__subcmd__peek_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner peek commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__project-names_commands] )) ||
_agent-runner__subcmd__project-names_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner project-names commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__restart_commands] )) ||
_agent-runner__subcmd__restart_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner restart commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__round_commands] )) ||
_agent-runner__subcmd__round_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner round commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__start_commands] )) ||
_agent-runner__subcmd__start_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner start commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__status_commands] )) ||
_agent-runner__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner status commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__stop_commands] )) ||
_agent-runner__subcmd__stop_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner stop commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__watch_commands] )) ||
_agent-runner__subcmd__watch_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner watch commands' commands "$@"
}
(( $+functions[_agent-runner__subcmd__web_commands] )) ||
_agent-runner__subcmd__web_commands() {
    local commands; commands=()
    _describe -t commands 'agent-runner web commands' commands "$@"
}

# Project names for the NAME arguments, from `agent-runner [--user] project-names`.
# The whole line: inside a subcommand `words` starts at the subcommand, and `--user` may be
# before it. The binary is named, not taken from the line, which may start with `sudo`.
_agent_runner_projects() {
    local -a names user line
    line=(${(z)BUFFER})
    (( ${line[(I)-H|--host|--host=*|-c|--config|--config=*]} )) && return 1
    (( ${line[(I)--user]} )) && user=(--user)
    names=(${(f)"$(agent-runner $user project-names 2>/dev/null)"})
    compadd -a names
}

if [ "$funcstack[1]" = "_agent-runner" ]; then
    _agent-runner "$@"
else
    compdef _agent-runner agent-runner
fi
