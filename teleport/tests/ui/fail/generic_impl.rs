use teleport as tp;
struct Svc<T>(T);
#[tp::service]
impl<T: Send + Sync + 'static> Svc<T> {
    fn add(&self) {}
}
fn main() {}
