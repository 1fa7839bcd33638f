use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    async fn add(&self) -> i64 {
        let not_send = std::rc::Rc::new(1);
        tokio::task::yield_now().await;
        *not_send
    }
}
fn main() {}
