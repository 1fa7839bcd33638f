use teleport as tp;
struct Svc;
#[tp::service(mapping = "rpc")]
impl Svc {
    fn add(&self) {}
}
fn main() {}
