use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    #[tp(pushh)]
    fn add(&self) {}
}
fn main() {}
