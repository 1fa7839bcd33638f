use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    fn add(&self) {}
    fn add_with(&self) {}
}
fn main() {}
