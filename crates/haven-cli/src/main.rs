//! The `haven` binary: all logic lives in the `haven_cli` library and the crates it wires.

fn main() -> std::process::ExitCode {
    haven_cli::main()
}
