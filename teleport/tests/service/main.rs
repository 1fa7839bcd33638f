//! `#[tp::service]` over real sockets: routes, names, stubs, both directions.

mod names;
mod routes;
