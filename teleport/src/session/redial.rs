//! Reconnecting a dialed session after its connection drops.

use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use super::{Origin, Session};
use crate::proto::Proto;

/// What a dialed session reconnects to.
#[derive(Clone)]
pub(crate) struct RedialTarget {
    pub(crate) addr: String,
    pub(crate) proto: Arc<dyn Proto>,
    pub(crate) dial_timeout: Duration,
}

/// The growth of the delay between attempts.
const BACKOFF_FACTOR: f64 = 1.6;
/// The random spread of each delay, ±20 %.
const JITTER: f64 = 0.2;

/// A delay spread randomly by ±20 %, so that many clients do not reconnect in step.
fn jittered(delay: Duration, attempt: u32) -> Duration {
    let random = std::collections::hash_map::RandomState::new().hash_one(attempt);
    let unit = (random % 10_000) as f64 / 10_000.0;
    delay.mul_f64(1.0 - JITTER + 2.0 * JITTER * unit)
}

/// Reconnects with growing, jittered delays until it succeeds, the attempts run out, or
/// the session or its peer closes.
pub(crate) async fn redial_loop(session: Session) {
    let Some(target) = session.redial_target().cloned() else { return };
    let config = session.peer().config().clone();
    let mut delay = config.redial_interval;
    let mut attempt: u32 = 0;
    loop {
        let exhausted =
            config.redial_times >= 0 && i64::from(attempt) >= i64::from(config.redial_times);
        if exhausted || session.is_closing() || session.peer().is_shutting_down() {
            break;
        }
        attempt += 1;
        tokio::time::sleep(jittered(delay, attempt)).await;
        if session.is_closing() {
            break;
        }
        match session.peer().connect(&target.addr, target.dial_timeout).await {
            Ok(conn) => {
                let origin = Origin::Dialed { redial: true };
                match session.attach(conn, target.proto.clone(), origin).await {
                    Ok(()) => {
                        crate::observe::metrics::redial("ok"); // observe
                        tracing::info!(addr = %target.addr, attempt, "redialed");
                        return;
                    }
                    Err(status) => {
                        crate::observe::metrics::redial("refused"); // observe
                        tracing::warn!(addr = %target.addr, attempt, %status, "redial refused")
                    }
                }
            }
            Err(status) => {
                crate::observe::metrics::redial("failed"); // observe
                tracing::debug!(addr = %target.addr, attempt, %status, "redial failed")
            }
        }
        delay = delay
            .mul_f64(BACKOFF_FACTOR)
            .min(config.redial_max_interval.max(config.redial_interval));
    }
    crate::observe::metrics::redial("gave_up"); // observe
    tracing::info!(addr = %target.addr, attempt, "giving up redialing");
    session.give_up();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let base = Duration::from_millis(1000);
        for attempt in 0..200 {
            let d = jittered(base, attempt);
            assert!(d >= Duration::from_millis(800) && d <= Duration::from_millis(1200), "{d:?}");
        }
    }
}
