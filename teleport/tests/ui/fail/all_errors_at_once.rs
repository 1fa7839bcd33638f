use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    fn take(self) {}
    fn pair(&self, _a: i64, _b: i64) {}
    #[tp(push)]
    fn notify(&self) -> i64 {
        1
    }
}
fn main() {}
