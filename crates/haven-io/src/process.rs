//! Child processes with a deadline and bounded output.
//!
//! `std::process::Command::output` waits forever and keeps everything a child prints. A chart
//! whose template loops, a credential plugin waiting for a browser that never comes, or a helper
//! that leaves a grandchild holding the output pipe would hang `haven`; a chart that prints
//! gigabytes would exhaust its memory. [`run`] bounds all of that.
//!
//! Written by hand on top of `std::process` and `rustix` (for `waitid` and `kill` on a process
//! group, without `unsafe`): the crates that wrap processes either wait without a deadline, or
//! give a deadline but no output caps and no process-group kill.

use std::io::{self, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// How long and how much a child may run and print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time from start until the child has exited and its output is closed.
    pub timeout: Duration,
    /// Most bytes read from standard output; more stops the child with an error.
    pub max_stdout: usize,
    /// Bytes kept of standard error: the last ones, which is where a failure is explained.
    pub stderr_tail: usize,
}

impl Limits {
    pub const fn new(timeout: Duration, max_stdout: usize) -> Self {
        Self {
            timeout,
            max_stdout,
            stderr_tail: 16 * 1024,
        }
    }
}

/// Who the child talks to besides us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Standard input is empty, standard error is captured (its tail), and the child runs in a
    /// process group of its own, which is killed as a whole when the child exits or times out.
    #[default]
    Captured,
    /// Standard input and standard error are the user's terminal (a credential plugin asking for
    /// a password or showing a device code). The child stays in our process group, since a
    /// background group cannot read the terminal; on timeout only the child itself is killed.
    Interactive,
}

/// What a child that finished printed.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    /// The last [`Limits::stderr_tail`] bytes of standard error (empty in
    /// [`Mode::Interactive`]).
    pub stderr: Vec<u8>,
    /// Whether standard error was longer than what was kept.
    pub stderr_truncated: bool,
}

impl Output {
    /// The end of standard error as text for a message: at most `lines` lines, `…` first when
    /// something was cut.
    pub fn stderr_tail(&self, lines: usize) -> String {
        tail_text(&self.stderr, self.stderr_truncated, lines)
    }
}

/// Why a child did not give its output.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("could not run {program}: {source}")]
    Start {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("{}", timed_out_message(what, *timeout, *exited, stderr_tail))]
    TimedOut {
        /// What was run, as the caller names it (`helm template charts/app`).
        what: String,
        timeout: Duration,
        /// The child itself had exited, but a process it started kept the output open.
        exited: bool,
        /// The end of standard error, at most a few lines.
        stderr_tail: String,
    },
    #[error(
        "{what} printed more than {} on standard output and was stopped",
        human_bytes(*limit)
    )]
    OutputTooLarge { what: String, limit: usize },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

impl ProcessError {
    /// The message on one line, for reports that show an error per line, with `hint` (how to
    /// change the limit) after what happened and before the end of standard error (of a
    /// timeout), whose lines are joined with ` | `.
    pub fn one_line(&self, hint: &str) -> String {
        match self {
            ProcessError::TimedOut {
                what,
                timeout,
                exited,
                stderr_tail,
            } => {
                let mut s = timed_out_message(what, *timeout, *exited, "");
                s.push_str(hint);
                if !stderr_tail.is_empty() {
                    s.push_str("; the end of its error output: ");
                    s.push_str(&join_lines(stderr_tail));
                }
                s
            }
            other => join_lines(&other.to_string()) + hint,
        }
    }
}

/// Lines joined with ` | `, for a message that must stay on one line.
pub fn join_lines(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn timed_out_message(what: &str, timeout: Duration, exited: bool, tail: &str) -> String {
    let mut s = if exited {
        format!(
            "{what} exited, but a process it started still held its output open after {}; it was killed",
            human_duration(timeout)
        )
    } else {
        format!(
            "{what} did not finish within {} and was killed",
            human_duration(timeout)
        )
    };
    if !tail.is_empty() {
        s.push_str("; the end of its error output:\n");
        s.push_str(&indent(tail));
    }
    s
}

/// `30s`, `1m30s`, `500ms`: how durations are written on the command line.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 || !ms.is_multiple_of(1000) {
        if ms >= 1000 {
            return format!("{:.1}s", d.as_secs_f64());
        }
        return format!("{ms}ms");
    }
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

/// `64 MiB`, `512 KiB`, `100 bytes`.
pub fn human_bytes(n: usize) -> String {
    const KI: usize = 1024;
    if n >= KI * KI && n.is_multiple_of(KI * KI) {
        format!("{} MiB", n / (KI * KI))
    } else if n >= KI && n.is_multiple_of(KI) {
        format!("{} KiB", n / KI)
    } else {
        format!("{n} bytes")
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn tail_text(bytes: &[u8], truncated: bool, lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end();
    let all: Vec<&str> = text.lines().collect();
    let cut = truncated || all.len() > lines;
    let kept = &all[all.len().saturating_sub(lines)..];
    let mut out = kept.join("\n");
    if cut && !out.is_empty() {
        out.insert_str(0, "…\n");
    }
    out
}

enum Event {
    Exited,
    Stdout(Result<Vec<u8>, StdoutError>),
    StderrClosed,
}

enum StdoutError {
    TooLarge,
    Io(io::Error),
}

/// The last bytes of standard error, shared with the thread that reads it so that a timeout can
/// quote what was printed so far.
#[derive(Default)]
struct Tail {
    bytes: Vec<u8>,
    truncated: bool,
    closed: bool,
}

/// Runs `cmd` to completion within `limits`. `what` names the run in errors (`helm template
/// charts/app`).
///
/// Standard output is piped and read up to [`Limits::max_stdout`]; the child must exit and close
/// its output within [`Limits::timeout`]. A non-zero exit is not an error here: the caller reads
/// [`Output::status`] and decides what to say.
pub fn run(
    mut cmd: Command,
    limits: &Limits,
    mode: Mode,
    what: &str,
) -> Result<Output, ProcessError> {
    cmd.stdout(Stdio::piped());
    match mode {
        Mode::Captured => {
            cmd.stdin(Stdio::null()).stderr(Stdio::piped());
            #[cfg(unix)]
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        }
        Mode::Interactive => {
            cmd.stdin(Stdio::inherit()).stderr(Stdio::inherit());
        }
    }
    let mut child = cmd.spawn().map_err(|source| ProcessError::Start {
        program: cmd.get_program().to_string_lossy().into_owned(),
        source,
    })?;
    let deadline = Instant::now() + limits.timeout;
    let (tx, rx) = mpsc::channel();

    let stdout = child.stdout.take();
    let max = limits.max_stdout;
    let out_tx = tx.clone();
    thread::spawn(move || {
        let result = match stdout {
            Some(pipe) => read_capped(pipe, max),
            None => Ok(Vec::new()),
        };
        let _ = out_tx.send(Event::Stdout(result));
    });

    let tail = Arc::new(Mutex::new(Tail::default()));
    let mut stderr_closed = false;
    match child.stderr.take() {
        Some(pipe) => {
            let tail = Arc::clone(&tail);
            let keep = limits.stderr_tail;
            let err_tx = tx.clone();
            thread::spawn(move || {
                read_tail(pipe, keep, &tail);
                let _ = err_tx.send(Event::StderrClosed);
            });
        }
        None => {
            lock(&tail).closed = true;
            stderr_closed = true;
        }
    }

    Waiter::start(&child, tx);
    let mut exited = false;
    let mut stdout: Option<Vec<u8>> = None;
    loop {
        if exited && stdout.is_some() && stderr_closed {
            break;
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timed_out(&mut child, mode, &tail, limits, exited, what));
        }
        match rx.recv_timeout(Waiter::POLL.map_or(remaining, |p| p.min(remaining))) {
            Ok(Event::StderrClosed) => stderr_closed = true,
            Ok(Event::Exited) => {
                exited = true;
                // Whatever the child left behind in its group (a plugin's helper holding the
                // pipe) goes with it: its output is complete.
                if mode == Mode::Captured {
                    kill(&mut child, mode);
                }
            }
            Ok(Event::Stdout(Ok(bytes))) => stdout = Some(bytes),
            Ok(Event::Stdout(Err(StdoutError::TooLarge))) => {
                kill(&mut child, mode);
                reap(&mut child);
                return Err(ProcessError::OutputTooLarge {
                    what: what.to_owned(),
                    limit: max,
                });
            }
            Ok(Event::Stdout(Err(StdoutError::Io(source)))) => {
                kill(&mut child, mode);
                reap(&mut child);
                return Err(ProcessError::Io {
                    what: what.to_owned(),
                    source,
                });
            }
            // A poll interval passed (where there is no `waitid`), or the deadline: the loop
            // looks again. Every sender lives until its thread ends, so a disconnect means the
            // same as a timeout.
            Err(_) => {
                if !exited && Waiter::POLL.is_some() {
                    exited = matches!(child.try_wait(), Ok(Some(_)));
                }
                if Instant::now() >= deadline {
                    return Err(timed_out(&mut child, mode, &tail, limits, exited, what));
                }
            }
        }
    }
    let status = child.wait().map_err(|source| ProcessError::Io {
        what: what.to_owned(),
        source,
    })?;
    let t = std::mem::take(&mut *lock(&tail));
    Ok(Output {
        status,
        stdout: stdout.unwrap_or_default(),
        stderr: t.bytes,
        stderr_truncated: t.truncated,
    })
}

/// Kills what is left, and says what timed out with the end of its error output.
fn timed_out(
    child: &mut Child,
    mode: Mode,
    tail: &Mutex<Tail>,
    limits: &Limits,
    exited: bool,
    what: &str,
) -> ProcessError {
    kill(child, mode);
    reap(child);
    // Killed, the group closes its end of the pipe: give the reader a moment to take what was
    // printed last.
    let grace = Instant::now() + Duration::from_millis(200);
    while !lock(tail).closed && Instant::now() < grace {
        thread::sleep(Duration::from_millis(5));
    }
    let t = lock(tail);
    ProcessError::TimedOut {
        what: what.to_owned(),
        timeout: limits.timeout,
        exited,
        stderr_tail: tail_text(&t.bytes, t.truncated, 20),
    }
}

fn lock(tail: &Mutex<Tail>) -> std::sync::MutexGuard<'_, Tail> {
    tail.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read_capped(mut pipe: impl Read, max: usize) -> Result<Vec<u8>, StdoutError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => {
                if out.len() + n > max {
                    return Err(StdoutError::TooLarge);
                }
                out.extend_from_slice(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(StdoutError::Io(e)),
        }
    }
}

/// Reads standard error to its end (so the child never blocks on a full pipe) and keeps the
/// last `keep` bytes.
fn read_tail(mut pipe: impl Read, keep: usize, tail: &Mutex<Tail>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let mut t = lock(tail);
                t.bytes.extend_from_slice(&buf[..n]);
                if t.bytes.len() > keep {
                    let cut = t.bytes.len() - keep;
                    t.bytes.drain(..cut);
                    t.truncated = true;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    lock(tail).closed = true;
}

/// Tells the main loop when the child has exited, without reaping it: until it is reaped, its
/// process id (and group id) cannot be reused, so killing the group afterwards is safe.
struct Waiter;

impl Waiter {
    /// How often the main loop asks whether the child exited, where no thread can wait for it.
    #[cfg(unix)]
    const POLL: Option<Duration> = None;
    #[cfg(not(unix))]
    const POLL: Option<Duration> = Some(Duration::from_millis(20));

    #[cfg(unix)]
    fn start(child: &Child, tx: mpsc::Sender<Event>) {
        use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
        let pid = Pid::from_child(child);
        thread::spawn(move || {
            // Until it returns something other than EINTR: exited, or reaped by the main thread
            // after a kill; either way, done.
            while let Err(rustix::io::Errno::INTR) = waitid(
                WaitId::Pid(pid),
                WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
            ) {}
            let _ = tx.send(Event::Exited);
        });
    }

    /// Without `waitid`, the main loop polls `try_wait` every [`Waiter::POLL`].
    #[cfg(not(unix))]
    fn start(_child: &Child, _tx: mpsc::Sender<Event>) {}
}

fn kill(child: &mut Child, mode: Mode) {
    #[cfg(unix)]
    if mode == Mode::Captured {
        use rustix::process::{Pid, Signal, kill_process_group};
        // The child leads its own group (`process_group(0)`); ESRCH means it is already gone.
        let _ = kill_process_group(Pid::from_child(child), Signal::KILL);
        return;
    }
    let _ = mode;
    let _ = child.kill();
}

fn reap(child: &mut Child) {
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_as_written_on_the_command_line() {
        assert_eq!(human_duration(Duration::from_secs(30)), "30s");
        assert_eq!(human_duration(Duration::from_secs(120)), "2m");
        assert_eq!(human_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(human_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(human_bytes(64 << 20), "64 MiB");
        assert_eq!(human_bytes(512 << 10), "512 KiB");
        assert_eq!(human_bytes(100), "100 bytes");
    }

    #[test]
    fn one_line_puts_the_hint_before_the_error_output() {
        let e = ProcessError::TimedOut {
            what: "helm".into(),
            timeout: Duration::from_secs(2),
            exited: false,
            stderr_tail: "…\na\nb".into(),
        };
        assert_eq!(
            e.one_line(" (--helm-timeout)"),
            "helm did not finish within 2s and was killed (--helm-timeout); the end of its error output: … | a | b"
        );
        assert!(
            e.to_string().contains("output:\n    …\n    a\n    b"),
            "{e}"
        );
    }

    #[test]
    fn the_tail_keeps_the_last_lines_and_marks_a_cut() {
        assert_eq!(tail_text(b"a\nb\nc\n", false, 2), "…\nb\nc");
        assert_eq!(tail_text(b"a\nb\n", false, 2), "a\nb");
        assert_eq!(tail_text(b"b\n", true, 2), "…\nb");
        assert_eq!(tail_text(b"", true, 2), "");
    }
}
