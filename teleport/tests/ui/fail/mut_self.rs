use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    fn change(&mut self) {}
}
fn main() {}
