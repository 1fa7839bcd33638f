#!/usr/bin/env python3
"""CPU per call by layer, from the folded stacks of a perf profile (inferno-collapse-perf).

    scripts/profile_breakdown.py STACKS.folded CALLS

The samples of `perf record` on the cpu-clock event are weighted in nanoseconds, so the
time of a layer, divided by the calls made while recording, is its cost per call. Each
sample counts once, for one layer, so the layers add up to the whole:

- a sample inside a system call is the kernel's;
- a sample in the body codec or in the allocator (found among the innermost frames) is
  theirs, whoever called them;
- any other sample goes to the innermost frame that matches a layer below (memcpy and
  memmove go to their caller).
"""

import re
import sys

KERNEL = "kernel (syscalls, loopback TCP)"
# Looked for among the innermost frames first: they take the sample from their callers.
LEAF_LAYERS = [
    ("protobuf body codec (prost, UTF-8 checks)", r"prost|merge_field|BenchmarkMessage as prost|utf8"),
    ("malloc / free", r"^(__GI___libc_(malloc|free|realloc)|malloc|_int_malloc|_int_free|_int_realloc"
     r"|tcache|cfree|free|realloc|malloc_consolidate|unlink_chunk)"),
]
LAYERS = [
    ("clock reads (activity times, deadlines)", r"clock_gettime|Instant::now|Instant::elapsed|Timespec"),
    ("frame encode / decode (Go v6 raw format)", r"teleport::proto::|teleport::message::|teleport::status::"),
    ("reply: build, hooks, write", r"dispatch::(reply_now|reply_message|send_now|replied|log_handled|send_later|send_reply)"),
    ("write path (queue, direct write)", r"teleport::socket::Socket::try_send|write_now|write_without_waiting|spawn_writer"),
    ("route, context, handler call", r"teleport::router::|teleport::context::|dispatch::(start|with_permit|handle_call"
     r"|handle_push)|HeldPermit|HandlerGuard|track_handler|__route_|Hello::say|Session as core::clone"),
    ("caller: request, pending table, deadline, reply decode", r"teleport::session::call::|PendingCalls|oneshot"
     r"|tokio::time::|Timeout"),
    ("read loop (buffer, dispatch, activity)", r"teleport::session::"),
    ("tokio I/O (readiness, poll_read/poll_write)", r"tokio::io::|tokio::net::|poll_evented|ScheduledIo|registration"),
    ("tokio scheduler and wake-ups", r"tokio::"),
    ("benchmark harness", r"bench_(client|server)|load::"),
]
OTHER = "other (libc, std)"


def layer_of(frames):
    if any(f in ("entry_SYSCALL_64", "do_syscall_64") for f in frames) or any(
        f.startswith(("asm_", "irq", "__irq", "ret_from")) for f in frames
    ):
        return KERNEL
    for label, rx in LEAF_LAYERS:
        if any(rx.search(f) for f in frames[-6:]):
            return label
    for frame in reversed(frames):
        if "memcpy" in frame or "memmove" in frame:
            continue
        for label, rx in LAYERS:
            if rx.search(frame):
                return label
    return OTHER


def main():
    global LEAF_LAYERS, LAYERS
    LEAF_LAYERS = [(label, re.compile(p)) for label, p in LEAF_LAYERS]
    LAYERS = [(label, re.compile(p)) for label, p in LAYERS]
    path, calls = sys.argv[1], float(sys.argv[2])
    spent = {}
    total = 0
    for line in open(path, encoding="utf-8", errors="replace"):
        stack, _, weight = line.rstrip("\n").rpartition(" ")
        frames = [re.sub(r"::h[0-9a-f]{16}$", "", f) for f in stack.split(";")]
        label = layer_of(frames)
        spent[label] = spent.get(label, 0) + int(weight)
        total += int(weight)
    print(f"{path}: {total / calls / 1000:.2f} µs of CPU per call while sampled")
    for label, ns in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"{ns / calls / 1000:7.2f} µs {100 * ns / total:5.1f} %  {label}")


if __name__ == "__main__":
    main()
