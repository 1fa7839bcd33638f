//! Procedural macros for teleport. Use them through the `teleport` crate.
