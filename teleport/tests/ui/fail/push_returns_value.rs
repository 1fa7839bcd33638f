use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    #[tp(push)]
    fn notify(&self, text: String) -> usize {
        text.len()
    }
}
fn main() {}
