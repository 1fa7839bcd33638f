//! Compile-time tests of `#[service]`: what it accepts and every diagnostic it gives.
//!
//! Cases that need a feature live in a directory named after it and run only with it.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
    #[cfg(feature = "protobuf")]
    t.pass("tests/ui/protobuf/*.rs");
}
