use teleport as tp;
struct NotSerde;
struct Svc;
#[tp::service]
impl Svc {
    fn add(&self, _arg: NotSerde) {}
}
fn main() {}
