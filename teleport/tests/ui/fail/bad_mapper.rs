use teleport as tp;
struct Svc;
#[tp::service(mapper = "grpc")]
impl Svc {
    fn add(&self) {}
}
fn main() {}
