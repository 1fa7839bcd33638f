use teleport as tp;
#[tp::service]
trait Store {
    const LIMIT: usize;
    fn get(&self, key: String) -> String;
}
fn main() {}
