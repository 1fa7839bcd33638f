//! The call scenarios: C clients, each with a connection (or a share of one), 5 warm-up
//! calls, then N/C sequential calls timed one by one.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use indicatif::ProgressBar;
use teleport::codec::{self, Protobuf};
use teleport::{Message, MessageType, Proto, RawProto, Session};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Barrier;

use crate::cli::Codec;
use crate::hello::{BenchmarkMessage, HelloClient, HelloSerdeClient};
use crate::measure::{Latencies, cpu_seconds};

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
        loop {
            if let Some(prefix) = self.buf.get(..4) {
                let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
                let len = len as usize;
                if self.buf.len() >= len {
                    let same = self.buf[..len] == self.frame[..];
                    self.buf.advance(len);
                    return same;
                }
            }
            if self.buf.capacity() - self.buf.len() < self.frame.len() {
                self.buf.reserve(8 << 10);
            }
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return false,
                Ok(_) => {}
            }
        }
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

/// Runs every caller for `per_client` timed calls after its warm-up, all starting together.
pub(crate) async fn run<C: Caller>(
    callers: Vec<C>,
    per_client: u64,
    server_pid: Option<&str>,
    progress: &ProgressBar,
) -> Measured {
    let ready = Arc::new(Barrier::new(callers.len() + 1));
    let start = Arc::new(Barrier::new(callers.len() + 1));
    let tasks: Vec<_> = callers
        .into_iter()
        .map(|caller| {
            let (ready, start, progress) = (ready.clone(), start.clone(), progress.clone());
            tokio::spawn(client(caller, per_client, ready, start, progress))
        })
        .collect();
    ready.wait().await;
    let cpu_before = cpu_now(server_pid);
    let started = Instant::now();
    start.wait().await;
    let mut nanos = Vec::with_capacity(per_client as usize * tasks.len());
    let mut failed = 0;
    for task in tasks {
        let (mut times, fails) = task.await.expect("a client task panicked");
        nanos.append(&mut times);
        failed += fails;
    }
    let wall = started.elapsed();
    let (client_cpu_s, server_cpu_s) = cpu_spent(cpu_before, cpu_now(server_pid));
    Measured {
        calls: nanos.len() as u64,
        latencies: Latencies::from_nanos(&mut nanos),
        failed,
        wall,
        client_cpu_s,
        server_cpu_s,
    }
}

/// One client: warm-up, wait for the others, then the timed calls; returns each call's
/// latency in nanoseconds and the number of failed calls.
async fn client(
    mut caller: impl Caller,
    calls: u64,
    ready: Arc<Barrier>,
    start: Arc<Barrier>,
    progress: ProgressBar,
) -> (Vec<u64>, u64) {
    let mut failed = 0;
    for _ in 0..WARMUP_CALLS {
        failed += u64::from(!caller.call().await);
    }
    ready.wait().await;
    start.wait().await;
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
