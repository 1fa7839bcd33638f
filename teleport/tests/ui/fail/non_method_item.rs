use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    const LIMIT: usize = 3;
    fn ok(&self) {}
}
fn main() {}
