//! Procedural macros for teleport. Use them through the `teleport` crate:
//! `#[teleport::service]` (or `#[tp::service]` after `use teleport as tp;`).

mod contract;
mod describe;
mod expand;
mod fallback;
mod server;

use proc_macro::TokenStream;

/// Turns an impl block or a trait into routes and a typed client. See `teleport::service`'s
/// docs.
#[proc_macro_attribute]
pub fn service(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::service(args.into(), input.into()).into()
}
