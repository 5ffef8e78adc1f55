//! `kubectl haven ...`: kubectl runs plugins named `kubectl-<name>` found on PATH. Same program
//! as `haven`.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    haven_cli::main()
}
