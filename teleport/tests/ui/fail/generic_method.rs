use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    fn echo<T>(&self, arg: T) -> T {
        arg
    }
}
fn main() {}
