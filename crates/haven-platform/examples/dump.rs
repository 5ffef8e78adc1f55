fn main() {
    let c = haven_platform::PlatformConfig::new(
        "haven",
        "example.nl",
        haven_platform::Provider::Previder,
    );
    let r = haven_platform::render(&c, &haven_platform::Catalogue::builtin().unwrap());
    for (p, t) in &r.files {
        if p.to_string_lossy()
            .contains(std::env::args().nth(1).unwrap().as_str())
        {
            println!("=== {}\n{t}", p.display());
        }
    }
}
