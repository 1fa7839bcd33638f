use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    fn add(&self, _ctx: tp::CallCtx, n: i64) -> i64 {
        n
    }
}
fn main() {}
