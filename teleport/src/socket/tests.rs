//! The write queue over a real loopback socket whose writes are counted: frames held back
//! by a cork go out in one write, in order.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::{OutboundBudget, PushPolicy, Pushed, Socket, spawn_writer};
use crate::message::{Message, MessageType};
use crate::proto::{Proto, RawProto};
use crate::transport::Addr;

/// A write half that counts the writes that reached the socket.
struct Counted<W> {
    inner: W,
    writes: Arc<AtomicUsize>,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Counted<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(_))) {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A socket writing to a loopback connection, its write count, and the other end.
async fn counted_socket() -> (Arc<Socket>, Arc<AtomicUsize>, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (ours, theirs) = tokio::join!(TcpStream::connect(addr), listener.accept());
    socket_on(ours.unwrap(), theirs.unwrap().0, 8 << 20)
}

/// The same over kernel buffers of a few KiB, so that a write soon takes only part of
/// what it is given; the queue holds `max_outbound` bytes.
async fn small_socket(max_outbound: usize) -> (Arc<Socket>, Arc<AtomicUsize>, TcpStream) {
    let listen = TcpSocket::new_v4().unwrap();
    listen.set_recv_buffer_size(4096).unwrap();
    listen.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = listen.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let ours = TcpSocket::new_v4().unwrap();
    ours.set_send_buffer_size(4096).unwrap();
    let (ours, theirs) = tokio::join!(ours.connect(addr), listener.accept());
    socket_on(ours.unwrap(), theirs.unwrap().0, max_outbound)
}

fn socket_on(
    ours: TcpStream,
    theirs: TcpStream,
    max_outbound: usize,
) -> (Arc<Socket>, Arc<AtomicUsize>, TcpStream) {
    let addr = ours.peer_addr().unwrap();
    ours.set_nodelay(true).unwrap();
    let writes = Arc::new(AtomicUsize::new(0));
    let half = Box::new(Counted { inner: ours, writes: writes.clone() });
    let socket = Socket::new(
        Arc::new(RawProto::default()),
        max_outbound,
        Arc::new(OutboundBudget::default()),
        half,
        true,
        Addr::Tcp(addr),
        #[cfg(unix)]
        None,
    );
    (socket, writes, theirs)
}

fn reply(seq: i32) -> Message {
    let mut msg = Message::new(MessageType::Reply, seq, "");
    msg.body = bytes::Bytes::from(vec![b'x'; 500]);
    msg
}

/// Reads `n` frames from `stream`; their seqs, in order.
async fn read_seqs(stream: &mut (impl AsyncRead + Unpin), n: usize) -> Vec<i32> {
    let proto = RawProto::default();
    let (mut buf, mut seqs) = (BytesMut::new(), Vec::new());
    while seqs.len() < n {
        while let Some(msg) = proto.decode(&mut buf).unwrap() {
            seqs.push(msg.seq);
        }
        if seqs.len() < n {
            assert!(stream.read_buf(&mut buf).await.unwrap() > 0, "closed early");
        }
    }
    seqs
}

#[tokio::test]
async fn frames_queued_under_a_cork_go_out_in_one_write_in_order() {
    let (socket, writes, mut peer) = counted_socket().await;
    // A lone frame is written at once by its sender.
    socket.try_send(&reply(1)).unwrap().unwrap();
    assert_eq!(writes.load(Ordering::Relaxed), 1);
    socket.cork();
    for seq in 2..=21 {
        socket.try_send(&reply(seq)).unwrap().unwrap();
    }
    assert_eq!(writes.load(Ordering::Relaxed), 1, "held back until the pass ends");
    assert!(socket.queued_bytes() > 0);
    socket.uncork();
    assert_eq!(writes.load(Ordering::Relaxed), 2);
    assert_eq!(socket.queued_bytes(), 0);
    assert_eq!(read_seqs(&mut peer, 21).await, (1..=21).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_cork_holds_back_a_bounded_batch() {
    let (socket, writes, mut peer) = counted_socket().await;
    socket.cork();
    let frames = 3 * super::COALESCE_LIMIT / 520;
    for seq in 1..=frames as i32 {
        socket.try_send(&reply(seq)).unwrap().unwrap();
    }
    // Written as the batch reached its bound, not all at the end.
    assert!(writes.load(Ordering::Relaxed) >= 2, "{writes:?}");
    assert!(socket.queued_bytes() < super::COALESCE_LIMIT);
    socket.uncork();
    let want: Vec<i32> = (1..=frames as i32).collect();
    assert_eq!(read_seqs(&mut peer, frames).await, want);
}

#[tokio::test]
async fn senders_woken_by_a_pass_join_one_write() {
    let (socket, writes, mut peer) = counted_socket().await;
    let writer = spawn_writer(socket.clone(), std::time::Duration::from_secs(10), |_| {});
    socket.set_writer(writer);
    socket.cork();
    // The callers a pass woke: they run after it, each sending its next frame.
    let senders: Vec<_> = (1..=10)
        .map(|seq| {
            let socket = socket.clone();
            tokio::spawn(async move { socket.send(&reply(seq)).await.unwrap() })
        })
        .collect();
    socket.uncork_after_wakeups(10);
    for sender in senders {
        sender.await.unwrap();
    }
    let seqs = read_seqs(&mut peer, 10).await;
    assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
    assert_eq!(writes.load(Ordering::Relaxed), 1, "written together by the last of them");
    // Once flushed, a lone frame is written at once again.
    socket.try_send(&reply(11)).unwrap().unwrap();
    assert_eq!(writes.load(Ordering::Relaxed), 2);
    assert_eq!(read_seqs(&mut peer, 1).await, vec![11]);
}

fn push(seq: i32, route: &str) -> Message {
    let mut msg = Message::new(MessageType::Push, seq, route);
    msg.body = bytes::Bytes::from(vec![b's'; 300]);
    msg
}

#[tokio::test]
async fn a_latest_wins_push_is_replaced_whole_behind_bytes_put_back() {
    let bound = 256 << 10;
    let (socket, writes, mut peer) = small_socket(bound).await;
    socket.cork();
    // Past a batch, the cork flushes; the kernel takes part, the rest goes back to the
    // front of the queue.
    let mut seq = 0;
    while writes.load(Ordering::Relaxed) == 0 {
        seq += 1;
        assert!(seq < 1_000, "no write");
        socket.try_send(&reply(seq)).unwrap().unwrap();
    }
    socket.uncork();
    assert!(socket.queued_bytes() > 0, "the kernel took everything");
    seq += 1;
    let first = seq;
    let pushed = socket.try_push(&push(first, "/state"), PushPolicy::DropOldest);
    assert!(matches!(pushed, Ok(Pushed::Sent(_))));
    // Fill the queue to its bound; then the latest state replaces the one queued.
    while socket.queued_bytes() < bound {
        seq += 1;
        socket.try_send(&reply(seq)).unwrap().unwrap();
    }
    seq += 1;
    let latest = seq;
    let pushed = socket.try_push(&push(latest, "/state"), PushPolicy::DropOldest);
    assert!(matches!(pushed, Ok(Pushed::Sent(_))));
    let writer = spawn_writer(socket.clone(), std::time::Duration::from_secs(10), |_| {});
    socket.set_writer(writer);
    // Every frame arrives whole and in order, without the replaced push.
    let want: Vec<i32> = (1..=latest).filter(|&s| s != first).collect();
    assert_eq!(read_seqs(&mut peer, want.len()).await, want);
}

#[tokio::test]
async fn the_writer_flushes_when_woken_senders_do_not_all_send() {
    let (socket, writes, mut peer) = counted_socket().await;
    let writer = spawn_writer(socket.clone(), std::time::Duration::from_secs(10), |_| {});
    socket.set_writer(writer);
    socket.cork();
    socket.try_send(&reply(1)).unwrap().unwrap();
    let senders: Vec<_> = (2..=4)
        .map(|seq| {
            let socket = socket.clone();
            tokio::spawn(async move { socket.send(&reply(seq)).await.unwrap() })
        })
        .collect();
    // Ten callers woken, three of which send: the writer writes once they have run.
    socket.uncork_after_wakeups(10);
    for sender in senders {
        sender.await.unwrap();
    }
    assert_eq!(read_seqs(&mut peer, 4).await, vec![1, 2, 3, 4]);
    assert_eq!(writes.load(Ordering::Relaxed), 1);
    socket.try_send(&reply(5)).unwrap().unwrap();
    assert_eq!(writes.load(Ordering::Relaxed), 2, "open again after the writer's flush");
}
