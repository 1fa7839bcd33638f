//! Balanced calls and pushes: pick, attempt, fail over once.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use teleport::codec::{DecodeBody, EncodeBody, encode_to_bytes};
use teleport::status::{self, Status};
use teleport::{CallOptions, Reply};
use tokio::time::Instant;
use tracing::Instrument;

use super::endpoint::{Endpoint, Outcome};
use super::pick::{HashKey, Policy, hash};
use super::{Balancer, Inner};

/// Options of one balanced call or push.
#[derive(Clone, Debug, Default)]
pub struct BalancedOptions {
    call: CallOptions,
    meta: Vec<(String, String)>,
    timeout: Option<Duration>,
    idempotent: bool,
    hash_key: Option<Vec<u8>>,
}

impl BalancedOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// The options each attempt starts from (codec, accept codec, transfer filters, meta).
    /// Their deadline is replaced by what is left of the balanced call's.
    pub fn call_options(mut self, options: CallOptions) -> Self {
        self.call = options;
        self
    }

    /// Sets a meta pair on the request; a [`HashKey::Meta`] of this key reads it.
    pub fn set_meta(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        self.meta.retain(|(k, _)| *k != key);
        self.meta.push((key, value));
        self
    }

    /// The deadline of the whole call, retry included, counted from its start (default:
    /// the peer's `call_timeout`). Zero means none.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Marks this call idempotent, whatever its route: it fails over after 102, 104 or 503.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// The consistent-hash key of this call, instead of the one the policy reads.
    pub fn hash_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.hash_key = Some(key.into());
        self
    }

    fn attempt_options(&self, deadline: Option<Instant>) -> CallOptions {
        let mut options = self.call.clone();
        for (key, value) in &self.meta {
            options = options.set_meta(key.clone(), value.clone());
        }
        match deadline {
            // At least a millisecond: zero would mean "no deadline".
            Some(deadline) => options.timeout(
                deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)),
            ),
            None => options.timeout(Duration::ZERO),
        }
    }
}

/// Whether a failed attempt's request may have reached the instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Written {
    /// Certainly not: the dial failed, or the session refused before sending.
    No,
    /// Perhaps.
    Maybe,
}

/// A failed attempt.
struct Failure {
    status: Status,
    written: Written,
}

static DEFAULT_OPTIONS: std::sync::LazyLock<BalancedOptions> =
    std::sync::LazyLock::new(BalancedOptions::default);

impl Balancer {
    /// Calls `route` on one instance of the service and returns the typed reply; see
    /// [`call_with`](Self::call_with).
    pub async fn call<R: DecodeBody>(
        &self,
        route: &str,
        arg: &(impl EncodeBody + Sync + ?Sized),
    ) -> Result<R, Status> {
        self.call_with(route, arg, &DEFAULT_OPTIONS).await.map(|reply| reply.value)
    }

    /// Calls with options. Fails over once (see the [module docs](super)); with no
    /// instance to call, fails with 503. Cancel-safe: dropping the future abandons the call.
    pub async fn call_with<R: DecodeBody>(
        &self,
        route: &str,
        arg: &(impl EncodeBody + Sync + ?Sized),
        options: &BalancedOptions,
    ) -> Result<Reply<R>, Status> {
        let inner = &self.inner;
        let deadline = inner.deadline(options.timeout);
        let idempotent = options.idempotent || self.is_idempotent(route);
        let key = inner.hash_key(arg, options);
        let span =
            tracing::info_span!("balanced_call", service = %inner.service, route, idempotent);
        async move {
            let first = inner.pick(key, None)?;
            let failure = match inner.attempt::<R>(&first, route, arg, options, deadline).await {
                Ok(reply) => return Ok(reply),
                Err(failure) => failure,
            };
            let retry = failure.written == Written::No
                || (idempotent && is_worth_retrying(&failure.status));
            let Some(second) = retry.then(|| inner.retry_target(key, &first, deadline)).flatten()
            else {
                return Err(failure.status);
            };
            inner.note_retry(&first, &second, &failure);
            inner.attempt(&second, route, arg, options, deadline).await.map_err(|f| f.status)
        }
        .instrument(span)
        .await
    }

    /// Pushes to one instance of the service; a push whose request was not written (the
    /// dial failed) goes to another instance once.
    pub async fn push(
        &self,
        route: &str,
        arg: &(impl EncodeBody + Sync + ?Sized),
        options: &BalancedOptions,
    ) -> Result<(), Status> {
        let inner = &self.inner;
        let deadline = inner.deadline(options.timeout);
        let key = inner.hash_key(arg, options);
        let first = inner.pick(key, None)?;
        let failure = match inner.push_once(&first, route, arg, options, deadline).await {
            Ok(()) => return Ok(()),
            Err(failure) => failure,
        };
        let second = (failure.written == Written::No)
            .then(|| inner.retry_target(key, &first, deadline))
            .flatten();
        let Some(second) = second else { return Err(failure.status) };
        inner.note_retry(&first, &second, &failure);
        inner.push_once(&second, route, arg, options, deadline).await.map_err(|f| f.status)
    }
}

/// The failures an idempotent call retries: the connection was lost or the write failed,
/// or the instance is unavailable (shutting down).
fn is_worth_retrying(status: &Status) -> bool {
    matches!(
        status.code(),
        status::CODE_CONN_CLOSED | status::CODE_WRITE_FAILED | status::CODE_SERVICE_UNAVAILABLE
    )
}

impl Inner {
    fn deadline(&self, timeout: Option<Duration>) -> Option<Instant> {
        let timeout = timeout.unwrap_or(self.peer.config().call_timeout);
        (!timeout.is_zero()).then(|| Instant::now() + timeout)
    }

    /// The call's consistent-hash key, when the policy hashes and the call has one.
    fn hash_key(&self, arg: &(impl EncodeBody + ?Sized), options: &BalancedOptions) -> Option<u64> {
        let Policy::ConsistentHash(from) = &self.config.policy else { return None };
        if let Some(key) = &options.hash_key {
            return Some(hash(key));
        }
        match from {
            HashKey::Meta(name) => {
                options.meta.iter().find(|(k, _)| k == name).map(|(_, v)| hash(v.as_bytes()))
            }
            HashKey::Argument => {
                encode_to_bytes(arg, self.peer.default_codec()).ok().map(|body| hash(&body))
            }
        }
    }

    fn pick(
        &self,
        key: Option<u64>,
        exclude: Option<&Arc<Endpoint>>,
    ) -> Result<Arc<Endpoint>, Status> {
        let snapshot = self.snapshot.read().clone();
        self.picker.pick(&snapshot, &self.config.policy, key, exclude).ok_or_else(|| {
            Status::with_code(
                status::CODE_SERVICE_UNAVAILABLE,
                format!("no instance of service {:?} to call", self.service),
            )
        })
    }

    /// Another instance for a retry, if there is one and time is left.
    fn retry_target(
        &self,
        key: Option<u64>,
        failed: &Arc<Endpoint>,
        deadline: Option<Instant>,
    ) -> Option<Arc<Endpoint>> {
        if self.peer.is_shutting_down() || deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        self.pick(key, Some(failed)).ok()
    }

    fn note_retry(&self, from: &Endpoint, to: &Endpoint, failure: &Failure) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            from = %from.instance.addr,
            to = %to.instance.addr,
            code = failure.status.code(),
            cause = failure.status.cause_text().unwrap_or(""),
            written = ?failure.written,
            "retrying on another instance"
        );
    }

    /// One call on `endpoint`, its outcome recorded in the endpoint's health.
    async fn attempt<R: DecodeBody>(
        &self,
        endpoint: &Endpoint,
        route: &str,
        arg: &(impl EncodeBody + ?Sized),
        options: &BalancedOptions,
        deadline: Option<Instant>,
    ) -> Result<Reply<R>, Failure> {
        let _in_flight = endpoint.start();
        let session = self.session(endpoint, deadline).await?;
        let result = session.call_with::<R>(route, arg, &options.attempt_options(deadline)).await;
        drop(session);
        endpoint.record(Outcome::of(result.as_ref().err(), false), &self.eject);
        result.map_err(|status| Failure { written: written(&status), status })
    }

    async fn push_once(
        &self,
        endpoint: &Endpoint,
        route: &str,
        arg: &(impl EncodeBody + ?Sized),
        options: &BalancedOptions,
        deadline: Option<Instant>,
    ) -> Result<(), Failure> {
        let _in_flight = endpoint.start();
        let session = self.session(endpoint, deadline).await?;
        let result = session.push_with(route, arg, &options.attempt_options(deadline)).await;
        endpoint.record(Outcome::of(result.as_ref().err(), false), &self.eject);
        result.map_err(|status| Failure { written: written(&status), status })
    }

    /// A session of the endpoint's pool, dialing one if needed, within the deadline. Every
    /// failure here comes before anything was written.
    async fn session(
        &self,
        endpoint: &Endpoint,
        deadline: Option<Instant>,
    ) -> Result<teleport::pool::PooledSession, Failure> {
        let leased = match deadline {
            Some(deadline) => {
                match tokio::time::timeout_at(deadline, endpoint.pool.session()).await {
                    Ok(leased) => leased,
                    Err(_) => Err(Status::with_code(
                        status::CODE_HANDLE_TIMEOUT,
                        "the call's deadline passed while dialing",
                    )),
                }
            }
            None => endpoint.pool.session().await,
        };
        leased.map_err(|status| {
            endpoint.record(Outcome::of(Some(&status), true), &self.eject);
            Failure { status, written: Written::No }
        })
    }
}

/// Whether a call that failed with `status` may have been written. The session API says
/// "not sent" only in the cause of the 503 it answers while redialing; everything else
/// after the session was leased may have reached the wire.
fn written(status: &Status) -> Written {
    let unsent = status.code() == status::CODE_SERVICE_UNAVAILABLE
        && status.cause_text().is_some_and(|cause| cause.contains("was not sent"));
    if unsent { Written::No } else { Written::Maybe }
}
