//! Runtime tests over real loopback sockets (port 0) and Unix sockets.

mod calls;
mod coalescing;
mod common;
mod deadlines;
mod failures;
mod hostile;
mod lifecycle;
mod plugins;
