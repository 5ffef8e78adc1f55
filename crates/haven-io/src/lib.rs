//! Bounded I/O at the edges of `haven`.
//!
//! Two things every command that touches the outside world needs, done in one place:
//!
//! - [`process`]: run a child process (`helm template`, a kubeconfig credential plugin,
//!   kubescape) with a deadline and caps on what it may print; on timeout the whole process
//!   group is killed, so a helper it started cannot outlive us or hold its output open.
//! - [`files`]: write files atomically (temporary file in the same directory, fsync, rename), and
//!   never through a symbolic link that leads out of the tree being written (a Git repository can
//!   carry such links).

pub mod files;
pub mod process;
