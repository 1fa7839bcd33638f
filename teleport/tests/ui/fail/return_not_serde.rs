use teleport as tp;
struct NotSerde;
struct Svc;
#[tp::service]
impl Svc {
    fn add(&self) -> NotSerde {
        NotSerde
    }
}
fn main() {}
