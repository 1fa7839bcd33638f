use teleport as tp;
#[tp::service]
struct Math;
fn main() {}
