use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    fn take(self) {}
    fn pair(&self, a: i64, b: i64) {}
    #[tp(push)]
    fn notify(&self) -> i64 {
        1
    }
}
fn main() {}
