//! The `haven` binary: all logic lives in the `haven_cli` library and the crates it wires.

/// haven allocates many small trees (one per YAML document); mimalloc serves that pattern far
/// faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    haven_cli::main()
}
