use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    #[tp(push)]
    fn notify(&self, _ctx: &tp::CallCtx, _text: String) {}
}
fn main() {}
