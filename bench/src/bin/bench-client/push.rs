//! The push scenario: C sessions; the server pushes the message to every one of them, round
//! after round, as fast as the slowest session drains; the client counts what arrives.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use teleport::{CallOptions, Session, Status, codec};

use crate::load::{Measured, cpu_now, cpu_spent};
use crate::measure::Latencies;
use teleport_bench::hello::{HelloClient, PushCounter};

/// Rounds pushed before the timed phase.
const WARMUP_ROUNDS: u64 = 5;
/// How long pushes may still arrive once the broadcast has ended early.
const PUSH_GRACE: Duration = Duration::from_secs(10);

/// Asks the server for `rounds` rounds of pushes to every session; returns how many it
/// queued. The argument travels in JSON whatever the codec: it is a plain number.
async fn broadcast(session: &Session, rounds: u64) -> Result<u64, Status> {
    let options = CallOptions::new().codec(codec::JSON).timeout(Duration::ZERO);
    HelloClient::broadcast_with(session, &rounds, &options).await.map(|reply| reply.value)
}

/// Runs the push scenario over `sessions`, whose peer routes `Sink.Push` to `counter`:
/// `rounds` timed rounds after the warm-up.
pub(crate) async fn run(
    sessions: &[Session],
    counter: &Arc<PushCounter>,
    rounds: u64,
    server_pid: Option<&str>,
    progress: &ProgressBar,
) -> Result<Measured, Status> {
    let per_round = sessions.len() as u64;
    broadcast(&sessions[0], WARMUP_ROUNDS).await?;
    tokio::time::timeout(PUSH_GRACE, counter.wait_for(WARMUP_ROUNDS * per_round))
        .await
        .map_err(|_| Status::new(500, "the warm-up pushes did not all arrive"))?;
    let warm = counter.received();

    let cpu_before = cpu_now(server_pid);
    let started = Instant::now();
    let session = sessions[0].clone();
    let mut pushing = tokio::spawn(async move { broadcast(&session, rounds).await });
    let ticker = tokio::spawn({
        let (counter, progress) = (counter.clone(), progress.clone());
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                progress.set_position(counter.received() - warm);
            }
        }
    });
    // Done when every push has arrived; if the broadcast ends first (a session failed),
    // the pushes still in flight get a grace period, and what never comes counts as failed.
    let reached = counter.wait_for(warm + rounds * per_round);
    tokio::pin!(reached);
    let pushed = tokio::select! {
        () = &mut reached => None,
        pushed = &mut pushing => Some(pushed),
    };
    if pushed.is_some() {
        let _ = tokio::time::timeout(PUSH_GRACE, &mut reached).await;
    }
    let wall = started.elapsed();
    let (client_cpu_s, server_cpu_s) = cpu_spent(cpu_before, cpu_now(server_pid));
    ticker.abort();
    let pushed = match pushed {
        Some(pushed) => pushed,
        None => pushing.await,
    };
    let pushed = pushed.map_err(|e| Status::new(500, e.to_string()))??;
    let received = counter.received() - warm;
    let missing = (rounds * per_round).saturating_sub(pushed.min(received));
    Ok(Measured {
        latencies: Latencies::default(),
        calls: received,
        failed: counter.wrong() + missing,
        wall,
        client_cpu_s,
        server_cpu_s,
        segments: None,
    })
}
