//! The `tp` binary run against live peers on loopback: routes, call, push, listen, failed
//! calls, refused arguments, unreachable peers, every network and protocol, and a peer that
//! answers with Go eRPC v6's recorded frames.

mod calls;
mod go_peer;
mod listen;
mod networks;
mod reach;
mod support;
