//! [`Group`]: a set of routes under a common prefix, with plugins of its own.

use std::future::Future;
use std::sync::Arc;

use super::handler::{self, CallHandler, PushHandler};
use super::table::RouteTable;
use super::{CallRoute, PushRoute};
use crate::codec::{DecodeBody, EncodeBody};
use crate::context::{CallCtx, PushCtx};
use crate::plugin::Plugin;
use crate::status::Status;

/// Routes registered through a group get its prefix and run its plugins after the peer's.
///
/// A prefix joins a path-like name with `/` (`/v1` + `/math/add` = `/v1/math/add`) and a
/// dotted name with `.` (`V1` + `Math.Add` = `V1.Math.Add`).
#[derive(Clone)]
pub struct Group {
    table: Arc<RouteTable>,
    prefix: String,
    plugins: Vec<Arc<dyn Plugin>>,
}

impl Group {
    pub(crate) fn new(
        table: Arc<RouteTable>,
        prefix: String,
        plugins: Vec<Arc<dyn Plugin>>,
    ) -> Self {
        Group { table, prefix, plugins }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A sub-group: this group's prefix joined with `prefix`, its plugins then `plugins`.
    pub fn group(&self, prefix: &str, plugins: Vec<Arc<dyn Plugin>>) -> Group {
        let mut all = self.plugins.clone();
        all.extend(plugins);
        Group::new(self.table.clone(), self.full_name(prefix), all)
    }

    /// The route name `name` gets in this group.
    pub fn full_name(&self, name: &str) -> String {
        join(&self.prefix, name)
    }

    /// Registers a call handler `f(ctx, arg) -> Result<reply, Status>` under `name`.
    pub fn route_call_fn<A, R, F, Fut>(&self, name: &str, f: F) -> &Self
    where
        A: DecodeBody + Send + 'static,
        R: EncodeBody + Send + 'static,
        F: Fn(CallCtx, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Status>> + Send + 'static,
    {
        self.route_call(name, handler::call_handler(f), Vec::new())
    }

    /// Registers a synchronous call handler `f(&ctx, arg) -> Result<reply, Status>` under
    /// `name`. It runs on the read loop's thread and its reply is written at once, with no
    /// future or task: for handlers that never wait.
    pub fn route_call_sync_fn<A, R, F>(&self, name: &str, f: F) -> &Self
    where
        A: DecodeBody + Send + 'static,
        R: EncodeBody + Send + 'static,
        F: Fn(&CallCtx, A) -> Result<R, Status> + Send + Sync + 'static,
    {
        self.route_call(name, handler::sync_call_handler(f), Vec::new())
    }

    /// Registers a blocking call handler `f(&ctx, arg) -> Result<R, Status>` under `name`:
    /// it runs on tokio's blocking thread pool, so that one that sleeps, reads files or
    /// computes for long stalls neither its connection nor the peer (a synchronous handler
    /// holds its connection's read loop, an `async` one a runtime thread). Its thread
    /// cannot be stopped: when the session closes or the deadline passes, the reply is
    /// dropped but the function runs to its end.
    pub fn route_call_blocking_fn<A, R, F>(&self, name: &str, f: F) -> &Self
    where
        A: DecodeBody + Send + 'static,
        R: EncodeBody + Send + 'static,
        F: Fn(&CallCtx, A) -> Result<R, Status> + Send + Sync + 'static,
    {
        self.route_call(name, handler::blocking_call_handler(f), Vec::new())
    }

    /// Registers a blocking push handler under `name` (see
    /// [`route_call_blocking_fn`](Self::route_call_blocking_fn)).
    pub fn route_push_blocking_fn<A, F>(&self, name: &str, f: F) -> &Self
    where
        A: DecodeBody + Send + 'static,
        F: Fn(&PushCtx, A) -> Result<(), Status> + Send + Sync + 'static,
    {
        self.route_push(name, handler::blocking_push_handler(f), Vec::new())
    }

    /// Registers a synchronous push handler `f(&ctx, arg) -> Result<(), Status>` under
    /// `name` (see [`route_call_sync_fn`](Self::route_call_sync_fn)).
    pub fn route_push_sync_fn<A, F>(&self, name: &str, f: F) -> &Self
    where
        A: DecodeBody + Send + 'static,
        F: Fn(&PushCtx, A) -> Result<(), Status> + Send + Sync + 'static,
    {
        self.route_push(name, handler::sync_push_handler(f), Vec::new())
    }

    /// Registers a push handler `f(ctx, arg) -> Result<(), Status>` under `name`.
    pub fn route_push_fn<A, F, Fut>(&self, name: &str, f: F) -> &Self
    where
        A: DecodeBody + Send + 'static,
        F: Fn(PushCtx, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Status>> + Send + 'static,
    {
        self.route_push(name, handler::push_handler(f), Vec::new())
    }

    /// Registers a stored call handler with route-level plugins.
    pub(crate) fn route_call(
        &self,
        name: &str,
        handler: CallHandler,
        plugins: Vec<Arc<dyn Plugin>>,
    ) -> &Self {
        let name = self.full_name(name);
        let plugins = self.table.plugins().with(&self.plugins).with(&plugins);
        self.table.notify_register(&name, true);
        self.table.update(|r| {
            r.add_call(CallRoute { name, handler, plugins, held_too_long: Default::default() })
        });
        self
    }

    /// Registers a stored push handler with route-level plugins.
    pub(crate) fn route_push(
        &self,
        name: &str,
        handler: PushHandler,
        plugins: Vec<Arc<dyn Plugin>>,
    ) -> &Self {
        let name = self.full_name(name);
        let plugins = self.table.plugins().with(&self.plugins).with(&plugins);
        self.table.notify_register(&name, false);
        self.table.update(|r| {
            r.add_push(PushRoute { name, handler, plugins, held_too_long: Default::default() })
        });
        self
    }

    /// Sets the handler of calls to unknown routes. It sees the body still encoded and may
    /// answer with a [`RawBody`](crate::codec::RawBody) (choosing the reply codec through
    /// [`CallCtx::set_reply_codec`]), so a proxy forwards without decoding.
    pub fn set_unknown_call<R, F, Fut>(&self, f: F) -> &Self
    where
        R: EncodeBody + Send + 'static,
        F: Fn(CallCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Status>> + Send + 'static,
    {
        let plugins = self.table.plugins().with(&self.plugins);
        let handler = handler::raw_call_handler(f);
        let name = String::new();
        self.table.update(|r| {
            r.set_unknown_call(CallRoute {
                name,
                handler,
                plugins,
                held_too_long: Default::default(),
            })
        });
        self
    }

    /// Sets the handler of pushes to unknown routes; it sees the body still encoded.
    pub fn set_unknown_push<F, Fut>(&self, f: F) -> &Self
    where
        F: Fn(PushCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Status>> + Send + 'static,
    {
        let plugins = self.table.plugins().with(&self.plugins);
        let handler = handler::raw_push_handler(f);
        let name = String::new();
        self.table.update(|r| {
            r.set_unknown_push(PushRoute {
                name,
                handler,
                plugins,
                held_too_long: Default::default(),
            })
        });
        self
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        return name.to_owned();
    }
    if name.starts_with('/') || prefix.starts_with('/') {
        format!("{}/{}", prefix.trim_end_matches('/'), name.trim_start_matches('/'))
    } else {
        format!("{}.{}", prefix.trim_end_matches('.'), name.trim_start_matches('.'))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn join_paths_and_dotted_names() {
        assert_eq!(super::join("", "/math/add"), "/math/add");
        assert_eq!(super::join("/v1", "/math/add"), "/v1/math/add");
        assert_eq!(super::join("/v1/", "math/add"), "/v1/math/add");
        assert_eq!(super::join("V1", "Math.Add"), "V1.Math.Add");
    }
}
