//! The contract of the `server` and `client` examples: both include this file, as two
//! crates would both depend on an api crate (see `examples/contract` for that layout).

use teleport as tp;

/// The seed's `Math` service: `/math/add`.
#[tp::service]
pub(crate) trait Math {
    /// Sums the numbers; echoes `author` from the meta or, failing that, the query.
    async fn add(&self, ctx: &tp::CallCtx, nums: Vec<i64>) -> Result<i64, tp::Status>;
}

/// The route the server broadcasts to and the client serves: `/push/status`.
#[tp::service]
pub(crate) trait Push {
    /// A line of server status.
    #[tp(push)]
    fn status(&self, text: String);
}
