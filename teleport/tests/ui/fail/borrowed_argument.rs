use teleport as tp;
struct Kv;
#[tp::service]
impl Kv {
    fn get(&self, key: &str) -> String {
        key.to_owned()
    }
}
fn main() {}
