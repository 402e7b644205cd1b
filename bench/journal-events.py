#!/usr/bin/env python3
"""Writes N agent-runner events for PROJECT into a journal through the native protocol, the way
`agent-runner round` does (round_start + round_end per round), and/or into a JSON mirror file.

usage: journal-events.py PROJECT N [--socket PATH] [--mirror FILE]
"""
import json, socket, sys, time, datetime

def main():
    args = sys.argv[1:]
    project, n = args[0], int(args[1])
    sock_path = args[args.index("--socket") + 1] if "--socket" in args else None
    mirror = args[args.index("--mirror") + 1] if "--mirror" in args else None
    s = None
    if sock_path:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    out = open(mirror, "a") if mirror else None
    base = time.time() - n  # one event a second, ending now
    for i in range(n):
        rnd = i // 2 + 1
        kind = "round_start" if i % 2 == 0 else "round_end"
        fields = {"MESSAGE": f"round {rnd} {'started' if kind == 'round_start' else 'ended: ok in 1.0s'}",
                  "MESSAGE_ID": "0" * 32, "PRIORITY": "6", "SYSLOG_IDENTIFIER": "agent-runner",
                  "AGENT_RUNNER_EVENT": kind, "AGENT_RUNNER_PROJECT": project,
                  "AGENT_RUNNER_ROUND": str(rnd), "AGENT_RUNNER_PHASE": "main"}
        payload = {}
        if kind == "round_end":
            payload = {"outcome": "ok", "exit_code": 0, "duration_ms": 1000}
            for k, v in payload.items():
                fields["AGENT_RUNNER_" + k.upper()] = str(v)
        if s:
            data = "".join(f"{k}={v}\n" for k, v in fields.items()).encode()
            while True:
                try:
                    s.sendto(data, sock_path)
                    break
                except (BlockingIOError, ConnectionRefusedError, OSError) as e:
                    if getattr(e, "errno", None) in (11, 105):  # EAGAIN, ENOBUFS: journald is busy
                        time.sleep(0.01)
                        continue
                    raise
        if out:
            ts = datetime.datetime.fromtimestamp(base + i, datetime.timezone.utc)
            ev = {"ts": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
                  "event": kind, "project": project, "round": rnd, "phase": "main", **payload}
            out.write(json.dumps(ev, separators=(",", ":")) + "\n")
    if out:
        out.close()

main()
