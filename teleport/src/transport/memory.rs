//! In-memory connections: a duplex pipe inside one process, for tests and doctests.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{Addr, Conn};

/// The buffer of each direction of a pipe.
const PIPE_BUFFER: usize = 64 << 10;

/// Two connected ends of an in-memory pipe: serve one with each peer.
pub fn pair() -> (Conn, Conn) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let a = Addr::Memory(NEXT.fetch_add(1, Ordering::Relaxed));
    let b = Addr::Memory(NEXT.fetch_add(1, Ordering::Relaxed));
    let (left, right) = tokio::io::duplex(PIPE_BUFFER);
    (end(left, a.clone(), b.clone()), end(right, b, a))
}

fn end(stream: tokio::io::DuplexStream, local_addr: Addr, remote_addr: Addr) -> Conn {
    let (reader, writer) = tokio::io::split(stream);
    Conn {
        reader: Box::new(reader),
        writer: Box::new(writer),
        local_addr,
        remote_addr,
        direct_writes: false,
        #[cfg(unix)]
        raw_fd: None,
    }
}
