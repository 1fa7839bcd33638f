use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    fn take(self) {}
}
fn main() {}
