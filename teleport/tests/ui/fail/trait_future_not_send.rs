use teleport as tp;
#[tp::service]
trait Math {
    async fn add(&self, nums: Vec<i64>) -> i64;
}
struct MathImpl;
impl Math for MathImpl {
    async fn add(&self, nums: Vec<i64>) -> i64 {
        let not_send = std::rc::Rc::new(1);
        tokio::task::yield_now().await;
        nums.iter().sum::<i64>() + *not_send
    }
}
fn main() {}
