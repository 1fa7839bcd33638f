//! The call scenarios: C clients, each with a connection (or a share of one), 5 warm-up
//! calls, then N/C sequential calls timed one by one; and the pipelined raw ceiling, where
//! one connection keeps D frames in flight.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use indicatif::ProgressBar;
use teleport::codec::{self, Protobuf};
use teleport::{Message, MessageType, Proto, RawProto, Session};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Barrier;

use crate::measure::{Latencies, cpu_seconds, tcp_out_segments};
use teleport_bench::ceiling::{Head, read_frame};
use teleport_bench::cli::Codec;
use teleport_bench::hello::{BenchmarkMessage, HelloClient, HelloSerdeClient};

/// Warm-up calls per client, not timed.
pub(crate) const WARMUP_CALLS: usize = 5;
/// Calls between two updates of the progress bar.
const PROGRESS_STEP: u64 = 1024;

/// One client's way of making a call.
pub(crate) trait Caller: Send + 'static {
    /// Makes one call; true when it succeeded with the expected reply.
    fn call(&mut self) -> impl Future<Output = bool> + Send;
}

/// The request body, in the flavour of the codec.
pub(crate) enum Body {
    /// For the protobuf codec.
    Protobuf(Protobuf<BenchmarkMessage>),
    /// For the serde codecs.
    Serde(BenchmarkMessage),
}

/// A teleport client: calls `Hello.Say` through the generated stub.
pub(crate) struct Stub {
    /// The session it calls on (maybe shared with other clients).
    pub(crate) session: Session,
    /// The message it sends.
    pub(crate) body: Arc<Body>,
}

impl Caller for Stub {
    async fn call(&mut self) -> bool {
        match &*self.body {
            Body::Protobuf(msg) => {
                HelloClient::say(&self.session, msg).await.is_ok_and(|reply| reply.field1 == "OK")
            }
            Body::Serde(msg) => HelloSerdeClient::say(&self.session, msg)
                .await
                .is_ok_and(|reply| reply.field1 == "OK"),
        }
    }
}

/// A raw ceiling client: writes the frame, reads the echoed frame back.
pub(crate) struct RawConn<S> {
    stream: S,
    frame: Bytes,
    buf: BytesMut,
}

impl<S> RawConn<S> {
    /// A client sending `frame` on `stream`.
    pub(crate) fn new(stream: S, frame: Bytes) -> Self {
        RawConn { stream, frame, buf: BytesMut::with_capacity(8 << 10) }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Caller for RawConn<S> {
    async fn call(&mut self) -> bool {
        if self.stream.write_all(&self.frame).await.is_err() {
            return false;
        }
        let Some(len) = read_frame(&mut self.stream, &mut self.buf, self.frame.len()).await else {
            return false;
        };
        let same = self.buf[..len] == self.frame[..];
        self.buf.advance(len);
        same
    }
}

/// A codec ceiling client: encodes the request with prost into a frame of the call's size,
/// writes it, reads the reply frame and decodes its message with prost.
pub(crate) struct CodecConn<S> {
    stream: S,
    request: BenchmarkMessage,
    call: Head,
    reply: Head,
    out: BytesMut,
    buf: BytesMut,
}

impl<S> CodecConn<S> {
    /// A client sending `request` on `stream`, in frames that start with `call`, and
    /// expecting replies that start with `reply`.
    pub(crate) fn new(stream: S, request: BenchmarkMessage, call: Head, reply: Head) -> Self {
        let (out, buf) = (BytesMut::with_capacity(8 << 10), BytesMut::with_capacity(8 << 10));
        CodecConn { stream, request, call, reply, out, buf }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Caller for CodecConn<S> {
    async fn call(&mut self) -> bool {
        self.out.clear();
        if self.call.encode(&self.request, &mut self.out).is_err()
            || self.stream.write_all(&self.out).await.is_err()
        {
            return false;
        }
        let Some(len) = read_frame(&mut self.stream, &mut self.buf, self.out.len()).await else {
            return false;
        };
        let answered = self.reply.decode(&self.buf[..len]).is_some_and(|msg| msg.field1 == "OK");
        self.buf.advance(len);
        answered
    }
}

/// A pipelined raw ceiling connection: it keeps `depth` frames in flight, and after each
/// read writes as many frames as came back, in one write. This is what the socket allows
/// for a multiplexed session with `depth` callers.
pub(crate) struct RawPipe<S> {
    stream: S,
    frame: Bytes,
    /// `depth` copies of the frame, to write k of them at once.
    batch: Bytes,
    depth: usize,
    buf: BytesMut,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> RawPipe<S> {
    /// A connection keeping `depth` copies of `frame` in flight on `stream`.
    pub(crate) fn new(stream: S, frame: Bytes, depth: usize) -> Self {
        let depth = depth.max(1);
        let batch = frame.repeat(depth).into();
        RawPipe { stream, frame, batch, depth, buf: BytesMut::with_capacity(64 << 10) }
    }

    /// Sends `calls` frames, at most `depth` in flight, and reads them back; each latency
    /// (ns) goes to `nanos` when given. Returns the frames that did not come back right.
    async fn pipeline(&mut self, calls: u64, mut nanos: Option<&mut Vec<u64>>) -> u64 {
        let len = self.frame.len();
        let mut sent_at = VecDeque::with_capacity(self.depth);
        let (mut sent, mut done, mut wrong) = (0u64, 0u64, 0u64);
        let mut send = (self.depth as u64).min(calls);
        while done < calls {
            if send > 0 {
                if self.stream.write_all(&self.batch[..send as usize * len]).await.is_err() {
                    break;
                }
                let now = Instant::now();
                sent_at.extend(std::iter::repeat_n(now, send as usize));
                sent += send;
            }
            if self.buf.capacity() - self.buf.len() < len {
                self.buf.reserve(64 << 10);
            }
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let mut back = 0;
            while self.buf.len() >= len {
                wrong += u64::from(self.buf[..len] != self.frame[..]);
                self.buf.advance(len);
                let at = sent_at.pop_front().unwrap_or_else(Instant::now);
                if let Some(nanos) = nanos.as_deref_mut() {
                    nanos.push(at.elapsed().as_nanos() as u64);
                }
                back += 1;
            }
            done += back;
            send = back.min(calls - sent);
        }
        wrong + (calls - done)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Worker for RawPipe<S> {
    async fn work(mut self, rounds: u64, gates: Gates, progress: ProgressBar) -> (Vec<u64>, u64) {
        let depth = self.depth as u64;
        let mut failed = self.pipeline(WARMUP_CALLS as u64 * depth, None).await;
        gates.pass().await;
        let mut nanos = Vec::with_capacity((rounds * depth) as usize);
        failed += self.pipeline(rounds * depth, Some(&mut nanos)).await;
        progress.inc(rounds * depth);
        (nanos, failed)
    }
}

/// The frame the raw ceiling echoes: a `Hello.Say` call with the message in `codec`,
/// encoded once by teleport's raw protocol, exactly as teleport writes it.
pub(crate) fn raw_frame(body: &Body, codec: Codec) -> Result<Bytes, Box<dyn std::error::Error>> {
    let mut msg = Message::new(MessageType::Call, 1, HelloClient::SAY);
    msg.body_codec = codec_id(codec);
    msg.body = match body {
        Body::Protobuf(m) => codec::encode_to_bytes(m, msg.body_codec)?,
        Body::Serde(m) => codec::encode_to_bytes(m, msg.body_codec)?,
    };
    let mut frame = BytesMut::new();
    RawProto::default().encode(&msg, &mut frame)?;
    Ok(frame.freeze())
}

/// The wire id of `codec`.
pub(crate) fn codec_id(codec: Codec) -> u8 {
    match codec {
        Codec::Protobuf => codec::PROTOBUF,
        Codec::Json => codec::JSON,
        Codec::Bincode => codec::BINCODE,
    }
}

/// What the timed phase of a run measured.
pub(crate) struct Measured {
    /// The latencies of the timed calls.
    pub(crate) latencies: Latencies,
    /// Timed calls (or pushes).
    pub(crate) calls: u64,
    /// Failed calls, warm-up included.
    pub(crate) failed: u64,
    /// Wall time of the timed phase.
    pub(crate) wall: Duration,
    /// CPU seconds of this process over the timed phase.
    pub(crate) client_cpu_s: f64,
    /// CPU seconds of the server over the timed phase.
    pub(crate) server_cpu_s: Option<f64>,
    /// TCP segments the machine sent over the timed phase.
    pub(crate) segments: Option<u64>,
}

/// CPU seconds of this process and of the server, read together.
pub(crate) fn cpu_now(server_pid: Option<&str>) -> (f64, Option<f64>) {
    (cpu_seconds("self").unwrap_or(0.0), server_pid.and_then(cpu_seconds))
}

/// The timed measure between two [`cpu_now`] readings.
pub(crate) fn cpu_spent(
    before: (f64, Option<f64>),
    after: (f64, Option<f64>),
) -> (f64, Option<f64>) {
    let server = after.1.zip(before.1).map(|(after, before)| after - before);
    (after.0 - before.0, server)
}

/// What a client of a run does: warm up, pass the gates with the others, make its timed
/// calls.
pub(crate) trait Worker: Send + 'static {
    /// Runs `rounds` timed rounds after the warm-up; the latency of each timed call (ns) and
    /// the number of failed calls, warm-up included.
    fn work(
        self,
        rounds: u64,
        gates: Gates,
        progress: ProgressBar,
    ) -> impl Future<Output = (Vec<u64>, u64)> + Send;
}

/// The two barriers of a run: every client warmed up, then the clock started.
#[derive(Clone)]
pub(crate) struct Gates {
    ready: Arc<Barrier>,
    start: Arc<Barrier>,
}

impl Gates {
    fn new(clients: usize) -> Self {
        Gates {
            ready: Arc::new(Barrier::new(clients + 1)),
            start: Arc::new(Barrier::new(clients + 1)),
        }
    }

    /// Waits until every client is warm and the clock has started.
    pub(crate) async fn pass(&self) {
        self.ready.wait().await;
        self.start.wait().await;
    }
}

/// A [`Caller`] making its calls one after the other.
struct Sequential<C>(C);

impl<C: Caller> Worker for Sequential<C> {
    fn work(
        self,
        calls: u64,
        gates: Gates,
        progress: ProgressBar,
    ) -> impl Future<Output = (Vec<u64>, u64)> + Send {
        client(self.0, calls, gates, progress)
    }
}

/// Runs every caller for `per_client` timed calls after its warm-up, all starting together.
pub(crate) async fn run<C: Caller>(
    callers: Vec<C>,
    per_client: u64,
    server_pid: Option<&str>,
    progress: &ProgressBar,
) -> Measured {
    let workers = callers.into_iter().map(Sequential).collect();
    run_workers(workers, per_client, server_pid, progress).await
}

/// Runs every worker for `rounds` timed rounds after its warm-up, all starting together.
pub(crate) async fn run_workers<W: Worker>(
    workers: Vec<W>,
    rounds: u64,
    server_pid: Option<&str>,
    progress: &ProgressBar,
) -> Measured {
    let gates = Gates::new(workers.len());
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|worker| tokio::spawn(worker.work(rounds, gates.clone(), progress.clone())))
        .collect();
    gates.ready.wait().await;
    let cpu_before = cpu_now(server_pid);
    let segments_before = tcp_out_segments();
    let started = Instant::now();
    gates.start.wait().await;
    let mut nanos = Vec::new();
    let mut failed = 0;
    for task in tasks {
        let (mut times, fails) = task.await.expect("a client task panicked");
        nanos.append(&mut times);
        failed += fails;
    }
    let wall = started.elapsed();
    let segments = tcp_out_segments().zip(segments_before).map(|(after, before)| after - before);
    let (client_cpu_s, server_cpu_s) = cpu_spent(cpu_before, cpu_now(server_pid));
    Measured {
        calls: nanos.len() as u64,
        latencies: Latencies::from_nanos(&mut nanos),
        failed,
        wall,
        client_cpu_s,
        server_cpu_s,
        segments,
    }
}

/// One client: warm-up, wait for the others, then the timed calls; returns each call's
/// latency in nanoseconds and the number of failed calls.
async fn client(
    mut caller: impl Caller,
    calls: u64,
    gates: Gates,
    progress: ProgressBar,
) -> (Vec<u64>, u64) {
    let mut failed = 0;
    for _ in 0..WARMUP_CALLS {
        failed += u64::from(!caller.call().await);
    }
    gates.pass().await;
    let mut nanos = Vec::with_capacity(calls as usize);
    for done in 1..=calls {
        let sent = Instant::now();
        let ok = caller.call().await;
        nanos.push(sent.elapsed().as_nanos() as u64);
        failed += u64::from(!ok);
        if done % PROGRESS_STEP == 0 {
            progress.inc(PROGRESS_STEP);
        }
    }
    progress.inc(calls % PROGRESS_STEP);
    (nanos, failed)
}
