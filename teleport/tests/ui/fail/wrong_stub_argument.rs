use teleport as tp;
#[tp::service]
pub trait Math {
    fn add(&self, nums: Vec<i64>) -> i64;
}
async fn caller(session: &tp::Session) -> Result<i64, tp::Status> {
    MathClient::add(session, "1, 2").await
}
fn main() {
    let _ = caller;
}
