//! The `server` example's implementation of the seed's `Math`, also served by the tests of
//! `examples/build-client`.

use teleport as tp;

use crate::seed_api::Math;

/// Our implementation of the contract's `Math`.
pub(crate) struct MathImpl;

impl Math for MathImpl {
    async fn add(&self, ctx: &tp::CallCtx, nums: Vec<i64>) -> Result<i64, tp::Status> {
        let author = match ctx.input_meta().get("author") {
            Some(author) => Some(author.to_owned()),
            None => ctx.query().ok().and_then(|q| q.get("author").map(str::to_owned)),
        };
        if let Some(author) = author {
            ctx.set_meta("echo-author", author);
        }
        Ok(nums.iter().sum())
    }
}
