#!/usr/bin/env python3
"""CPU per call by step, from the folded stacks of a perf profile (inferno-collapse-perf).

    scripts/profile_breakdown.py STACKS.folded CALLS

The samples of `perf record` on the cpu-clock event are weighted in nanoseconds, so the
time inside any frame, divided by the calls made while recording, is its cost per call.
A step counts every sample with a matching frame anywhere in its stack (inclusive time), so
nested steps overlap their parents.
"""

import re
import sys

# (label, regex on one frame); indented labels are parts of the step above them.
STEPS = [
    ("kernel: every syscall", r"^(entry_SYSCALL_64|do_syscall_64)$"),
    ("  send (loopback delivery included)", r"^__libc_send$"),
    ("  recv", r"^__libc_recv$"),
    ("  epoll_wait", r"^epoll_wait$"),
    ("  futex / eventfd (wake-ups)", r"^(syscall|__GI___libc_write|futex_wait)$"),
    ("caller task: Session::call_with", r"impl teleport::session::Session>::call_with"),
    ("  request: body encode, Message", r"impl teleport::session::Session>::request"),
    ("  live_socket (watch, RwLock)", r"live_socket"),
    ("  pending table insert/take", r"PendingCalls"),
    ("  decode_reply (body decode)", r"decode_reply"),
    ("read loop task: read_frames", r"teleport::session::dispatch::read_frames"),
    ("  RawProto::decode", r"RawProto as teleport::proto::Proto>::decode"),
    ("  Socket::closed() select arm", r"teleport::socket::Socket::closed"),
    ("  handle_call (route, ctx, permit, spawn)", r"dispatch::handle_call::\{\{closure\}\}$"),
    ("  tokio::spawn", r"tokio::task::spawn::spawn|bind_new_task"),
    ("handler task: run_call + send_reply", r"dispatch::handle_call::\{\{closure\}\}::\{\{closure\}\}"),
    ("  body decode (handler)", r"decode_call_body"),
    ("  body encode (reply)", r"teleport::codec::encode_to_bytes"),
    ("Socket::send (lock, frame encode, notify)", r"teleport::socket::Socket::send"),
    ("  RawProto::encode", r"RawProto as teleport::proto::Proto>::encode"),
    ("writer task (its send syscall included)", r"teleport::socket::writer::spawn_writer"),
    ("prost decode", r"Message>::merge|prost::message::Message::decode"),
    ("prost encode", r"Message>::encode_raw|prost::message::Message::encode"),
    ("tokio Notify", r"tokio::sync::notify"),
    ("tokio oneshot", r"tokio::sync::oneshot"),
    ("tokio watch", r"tokio::sync::watch"),
    ("tokio timers (entries, wheel)", r"TimerEntry|sleep::Sleep|runtime::time::(entry|wheel)|reregister|clear_entry"),
    ("wake another worker", r"notify_parked|Unparker|unpark|mio::waker"),
    ("parking_lot locks", r"parking_lot::|lock_api::"),
    ("malloc / free / realloc", r"^(malloc|free|realloc|cfree|_int_malloc|_int_free|_int_realloc|__GI___libc_(malloc|free|realloc))$"),
    ("memcpy / memmove", r"^__mem(cpy|move)"),
    ("UTF-8 validation", r"run_utf8_validation"),
    ("raw ceiling client/echo", r"RawConn|bench_server::serve::echo"),
]


def main():
    path, calls = sys.argv[1], float(sys.argv[2])
    stacks = []
    for line in open(path, encoding="utf-8", errors="replace"):
        frames, _, weight = line.rstrip("\n").rpartition(" ")
        stacks.append((frames.split(";"), int(weight)))
    total = sum(weight for _, weight in stacks)
    print(f"{path}: {total / calls / 1000:.2f} µs of CPU per call while sampled")
    for label, pattern in STEPS:
        rx = re.compile(pattern)
        spent = sum(w for frames, w in stacks if any(rx.search(f) for f in frames))
        if spent:
            print(f"{spent / calls / 1000:7.2f} µs {100 * spent / total:5.1f} %  {label}")


if __name__ == "__main__":
    main()
