use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    fn helper() {}
}
fn main() {}
