//! What a handler's nested calls inherit from the call being handled, kept in a task-local
//! while its handler runs: its deadline, and its trace context.

use std::future::Future;

use tokio::time::Instant;
use tracing::Instrument;

use crate::context::Incoming;
use crate::observe::TraceContext;

/// What calls made on a handler's task inherit.
#[derive(Clone, Default)]
pub(crate) struct Inherited {
    pub(crate) deadline: Option<Instant>,
    pub(crate) trace: Option<TraceContext>,
}

tokio::task_local! {
    static INHERITED: Inherited;
}

/// The deadline of the call whose handler is running on this task, if any.
pub(crate) fn inherited() -> Option<Instant> {
    INHERITED.try_with(|inherited| inherited.deadline).ok().flatten()
}

/// The trace context of the message whose handler is running on this task, if any.
pub(crate) fn inherited_trace() -> Option<TraceContext> {
    INHERITED.try_with(|inherited| inherited.trace.clone()).ok().flatten()
}

/// What this task's calls inherit now, to hand to a task they spawn.
pub(crate) fn current() -> Inherited {
    INHERITED.try_with(Inherited::clone).unwrap_or_default()
}

/// Runs `f`, a step of the handler of `ctx`, in the handler's span, its calls inheriting
/// `deadline` and the handler's trace context.
pub(crate) fn sync_scope<R>(ctx: &Incoming, deadline: Option<Instant>, f: impl FnOnce() -> R) -> R {
    let inherited = Inherited { deadline, trace: ctx.trace_context().cloned() };
    ctx.observed().span().in_scope(|| INHERITED.sync_scope(inherited, f))
}

/// Polls `future`, the handler of `ctx`, as [`sync_scope`] runs its steps.
pub(crate) fn scope<F: Future>(
    ctx: &Incoming,
    deadline: Option<Instant>,
    future: F,
) -> impl Future<Output = F::Output> + use<F> {
    let inherited = Inherited { deadline, trace: ctx.trace_context().cloned() };
    within(inherited, future).instrument(ctx.observed().span().clone())
}

/// Polls `future` with `inherited` as what calls inherit.
pub(crate) fn within<F: Future>(
    inherited: Inherited,
    future: F,
) -> impl Future<Output = F::Output> {
    INHERITED.scope(inherited, future)
}

/// The earlier of two deadlines, `None` standing for no deadline.
pub(crate) fn earlier(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
