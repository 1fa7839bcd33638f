//! The deadline a handler's nested calls inherit: the deadline of the call being handled,
//! kept in a task-local while its handler runs.

use std::future::Future;

use tokio::time::Instant;

tokio::task_local! {
    static DEADLINE: Option<Instant>;
}

/// The deadline of the call whose handler is running on this task, if any.
pub(crate) fn inherited() -> Option<Instant> {
    DEADLINE.try_with(|deadline| *deadline).ok().flatten()
}

/// Runs `f` with `deadline` as the inherited deadline.
pub(crate) fn sync_scope<R>(deadline: Option<Instant>, f: impl FnOnce() -> R) -> R {
    DEADLINE.sync_scope(deadline, f)
}

/// Polls `future` with `deadline` as the inherited deadline.
pub(crate) fn scope<F: Future>(
    deadline: Option<Instant>,
    future: F,
) -> impl Future<Output = F::Output> {
    DEADLINE.scope(deadline, future)
}

/// The earlier of two deadlines, `None` standing for no deadline.
pub(crate) fn earlier(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
