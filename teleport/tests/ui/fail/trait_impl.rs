use teleport as tp;
struct Svc;
trait Api {
    fn add(&self);
}
#[tp::service]
impl Api for Svc {
    fn add(&self) {}
}
fn main() {}
