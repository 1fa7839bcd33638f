use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}
fn main() {}
