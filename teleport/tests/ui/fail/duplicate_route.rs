use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    fn add(&self) {}
    #[tp(route = "/svc/add")]
    fn plus(&self) {}
}
fn main() {}
