use teleport as tp;
#[tp::service]
trait Store {
    type Value;
    fn get(&self, key: String) -> String;
}
fn main() {}
