//! Release chores: `cargo xtask dist` writes shell completions and the man page, generated from
//! the CLI definition, into `target/dist/`. (The admission webhook's shape table has its own
//! generator, `cargo shapes`, in `xtask/shapegen`: it must not depend on the crate it writes.)

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let task = std::env::args().nth(1).unwrap_or_default();
    if task != "dist" {
        eprintln!("usage: cargo xtask dist");
        std::process::exit(2);
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/dist");
    let completions = out.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [
        clap_complete::Shell::Bash,
        clap_complete::Shell::Zsh,
        clap_complete::Shell::Fish,
        clap_complete::Shell::PowerShell,
        clap_complete::Shell::Elvish,
    ] {
        let path =
            clap_complete::generate_to(shell, &mut haven_cli::command(), "haven", &completions)?;
        println!("wrote {}", path.display());
    }
    let man = out.join("haven.1");
    let mut buf = Vec::new();
    clap_mangen::Man::new(haven_cli::command()).render(&mut buf)?;
    std::fs::write(&man, buf)?;
    println!("wrote {}", man.display());
    Ok(())
}
