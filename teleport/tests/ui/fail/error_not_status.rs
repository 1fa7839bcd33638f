use teleport as tp;
struct Files;
#[tp::service]
impl Files {
    fn read(&self, path: String) -> Result<String, std::io::Error> {
        std::fs::read_to_string(path)
    }
}
fn main() {}
