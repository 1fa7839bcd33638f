//! Metrics through the `metrics` facade (feature `metrics`); without the feature every
//! function here is empty.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `teleport_calls_total` | counter | `route`, `side` |
//! | `teleport_pushes_total` | counter | `route`, `side` |
//! | `teleport_errors_total` | counter | `route`, `side`, `code` |
//! | `teleport_in_flight` | gauge | `route`, `side` |
//! | `teleport_duration_seconds` | histogram | `route`, `side` |
//! | `teleport_bytes_in_total` | counter | `route`, `side` |
//! | `teleport_bytes_out_total` | counter | `route`, `side` |
//! | `teleport_sessions` | gauge | |
//! | `teleport_redials_total` | counter | `result` (`ok`, `refused`, `failed`, `gave_up`) |
//! | `teleport_connections_closed_total` | counter | `reason` |
//! | `teleport_outbound_queued_bytes` | gauge | |
//!
//! `side` is `client` for what a peer sends and `server` for what it handles. Bytes are body
//! bytes. The handles of a route are registered with the recorder the first time the route
//! is seen, so install the recorder before the peers carry traffic. Past 1000 routes per
//! side, further ones are counted under `route="<other>"`, so that a client sending random
//! paths cannot grow the label set without bound.

#[cfg(feature = "metrics")]
pub(super) use enabled::*;

#[cfg(feature = "metrics")]
mod enabled {
    use std::collections::HashMap;
    use std::sync::{Arc, OnceLock};
    use std::time::Duration;

    use metrics::{Counter, Gauge, Histogram, Unit};
    use parking_lot::RwLock;

    use crate::status::Status;

    /// Which end of a message a metric counts.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(in crate::observe) enum Side {
        Client,
        Server,
    }

    const MAX_ROUTES: usize = 1000;
    const OTHER: &str = "<other>";

    /// The handles of one route on one side.
    pub(in crate::observe) struct RouteMetrics {
        labels: [(&'static str, String); 2],
        /// Registered when first used, so that a call route shows no push counter.
        calls: OnceLock<Counter>,
        pushes: OnceLock<Counter>,
        in_flight: Gauge,
        duration: Histogram,
        bytes_in: Counter,
        bytes_out: Counter,
    }

    type Routes = RwLock<HashMap<Box<str>, Arc<RouteMetrics>>>;

    /// The handles of `route` on `side`, registered on first use.
    pub(in crate::observe) fn route(side: Side, route: &str) -> Arc<RouteMetrics> {
        static ROUTES: OnceLock<[Routes; 2]> = OnceLock::new();
        let routes = &ROUTES.get_or_init(|| {
            describe();
            Default::default()
        })[side as usize];
        if let Some(found) = routes.read().get(route) {
            return found.clone();
        }
        let mut routes = routes.write();
        let key =
            if routes.len() < MAX_ROUTES || routes.contains_key(route) { route } else { OTHER };
        routes.entry(key.into()).or_insert_with(|| Arc::new(RouteMetrics::new(side, key))).clone()
    }

    impl RouteMetrics {
        fn new(side: Side, route: &str) -> Self {
            let side = match side {
                Side::Client => "client",
                Side::Server => "server",
            };
            let labels = [("route", route.to_owned()), ("side", side.to_owned())];
            RouteMetrics {
                calls: OnceLock::new(),
                pushes: OnceLock::new(),
                in_flight: metrics::gauge!("teleport_in_flight", &labels),
                duration: metrics::histogram!("teleport_duration_seconds", &labels),
                bytes_in: metrics::counter!("teleport_bytes_in_total", &labels),
                bytes_out: metrics::counter!("teleport_bytes_out_total", &labels),
                labels,
            }
        }

        /// A call or push began: counted, and in flight until [`left`](Self::left).
        pub(in crate::observe) fn began(&self, push: bool) {
            let counter = match push {
                true => self
                    .pushes
                    .get_or_init(|| metrics::counter!("teleport_pushes_total", &self.labels)),
                false => self
                    .calls
                    .get_or_init(|| metrics::counter!("teleport_calls_total", &self.labels)),
            };
            counter.increment(1);
            self.in_flight.increment(1.0);
        }

        pub(in crate::observe) fn left(&self) {
            self.in_flight.decrement(1.0);
        }

        /// A call or push ended with `status` after `elapsed`, having moved these body bytes.
        pub(in crate::observe) fn ended(
            &self,
            status: &Status,
            elapsed: Duration,
            bytes_in: usize,
            bytes_out: usize,
        ) {
            self.duration.record(elapsed.as_secs_f64());
            self.bytes_in.increment(bytes_in as u64);
            self.bytes_out.increment(bytes_out as u64);
            if !status.is_ok() {
                let [route, side] = self.labels.clone();
                let labels = [route, side, ("code", status.code().to_string())];
                metrics::counter!("teleport_errors_total", &labels).increment(1);
            }
        }
    }

    fn describe() {
        use metrics::{describe_counter, describe_gauge, describe_histogram};
        describe_counter!("teleport_calls_total", "Calls made (client) or received (server)");
        describe_counter!("teleport_pushes_total", "Pushes sent (client) or received (server)");
        describe_counter!(
            "teleport_errors_total",
            "Calls and pushes that ended with an error status"
        );
        describe_gauge!("teleport_in_flight", "Calls and pushes under way");
        describe_histogram!("teleport_duration_seconds", Unit::Seconds, "Time from start to end");
        describe_counter!("teleport_bytes_in_total", Unit::Bytes, "Body bytes received");
        describe_counter!("teleport_bytes_out_total", Unit::Bytes, "Body bytes sent");
        describe_gauge!("teleport_sessions", "Open sessions");
        describe_counter!("teleport_redials_total", "Redial attempts by result");
        describe_counter!("teleport_connections_closed_total", "Connections ended, by reason");
        describe_gauge!(
            "teleport_outbound_queued_bytes",
            Unit::Bytes,
            "Bytes waiting to be written"
        );
    }

    /// The bytes waiting in a peer's write queues, as last seen.
    pub(in crate::observe) fn queued_bytes(bytes: usize) {
        static GAUGE: OnceLock<Gauge> = OnceLock::new();
        GAUGE.get_or_init(|| metrics::gauge!("teleport_outbound_queued_bytes")).set(bytes as f64);
    }
}

/// A session opened (`+1`) or was finalized (`-1`).
pub(crate) fn sessions(delta: f64) {
    #[cfg(feature = "metrics")]
    metrics::gauge!("teleport_sessions").increment(delta);
    #[cfg(not(feature = "metrics"))]
    let _ = delta;
}

/// A redial attempt ended: `ok`, `refused`, `failed` or `gave_up`.
pub(crate) fn redial(result: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("teleport_redials_total", "result" => result).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = result;
}

/// A connection's read loop ended, for `reason`.
pub(crate) fn connection_closed(reason: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("teleport_connections_closed_total", "reason" => reason).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}
