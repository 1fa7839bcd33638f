use teleport as tp;
#[tp::service]
trait Store<T> {
    fn get(&self, key: String) -> T;
}
fn main() {}
