//! Bounded waits shared by the test binaries: they guard against hangs, they never pace a
//! test (each returns as soon as its condition holds).

use std::time::Duration;

use teleport::{Session, SessionState};

/// Waits (bounded) until `session` reaches `state`.
pub(crate) async fn wait_state(session: &Session, state: SessionState) {
    let mut watch = session.watch_state();
    tokio::time::timeout(Duration::from_secs(20), watch.wait_for(|s| *s == state))
        .await
        .expect("state not reached in time")
        .expect("session dropped");
}

/// Waits (bounded, in real time, so it also works under paused tokio time) until `cond`
/// holds.
pub(crate) async fn eventually(mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "condition not reached in time");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
