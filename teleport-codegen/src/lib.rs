//! The service model and client code generator of teleport, shared by the `#[service]`
//! macro (`teleport-macros`) and the build-time generator (`teleport-build`), so that a
//! client is the same code whichever way it is made.
//!
//! Not a stable API: it follows `teleport-macros` and `teleport-build`. The stages are
//! those of the macro: [`args`] (the attributes), [`ast`] and [`method`] (the model, read
//! from an impl block or a trait), [`check`] (checks across methods), [`client`] (the typed
//! client), all reporting through [`ctxt::Ctxt`].

pub mod args;
pub mod ast;
pub mod check;
pub mod client;
pub mod ctxt;
pub mod method;
pub mod names;

pub use teleport_mapper::Mapper;
