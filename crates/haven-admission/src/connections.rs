//! What keeps the webhook from being starved of connections: the open connections with their
//! activity, a limit per client address and a global one, the longest-idle connection given up
//! to make room, and the pacing of `accept` when it fails.
//!
//! The webhook sits on the path of every Pod creation (`failurePolicy: Fail`), so a client that
//! holds connections open without using them must not lock the API server out:
//!
//! - every connection is closed when it has had no request in flight for the idle timeout
//!   (the server's task, `server.rs`); a connection that has never sent a request gets the
//!   shorter header timeout;
//! - one client address holds at most `per_client` connections: more are refused at accept;
//! - at the global limit (`total`), a new connection takes the place of an idle one (asked
//!   to close; an in-flight request is never cut): one that has not yet completed a request
//!   if there is one, the oldest such, else the one idle longest. It is refused only when
//!   every connection has a request in flight. Connections that have served requests (the
//!   API server's) are thus the last to go, and idle ones from clients that only connect are
//!   the first. Without this, a few hundred idle
//!   connections from many addresses would make every new connection of the API server wait
//!   for their idle timeouts. The connections asked to close still hold their descriptors for
//!   a moment, so the total may exceed the limit by at most [`EVICTION_SLACK`];
//! - when `accept` fails for lack of file descriptors (or memory), the loop waits before the
//!   next attempt, doubling the wait up to a second, instead of spinning on an error that the
//!   listening socket reports again at once; the longest-idle connection is given up to free
//!   a descriptor; and the error is logged once per interval with the count of the ones not
//!   logged ([`Throttle`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::{Notify, watch};

use crate::metrics::ReasonLabels;

/// Connections that may be closing (asked to, descriptors not yet released) above the global
/// limit, at most.
pub(crate) const EVICTION_SLACK: usize = 64;

/// What a connection has done, shared by its task and its requests.
#[derive(Debug)]
pub(crate) struct Activity {
    opened: Instant,
    /// Asked to close: HTTP/1 responses say `Connection: close`.
    closing: AtomicBool,
    in_flight: AtomicUsize,
    /// Milliseconds after `opened` at which the last request ended; [`NEVER`] before the first.
    last_done: AtomicU64,
}

const NEVER: u64 = u64::MAX;

impl Activity {
    fn new(opened: Instant) -> Self {
        Self {
            opened,
            closing: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            last_done: AtomicU64::new(NEVER),
        }
    }

    /// A request has started; it ends when the guard is dropped (answered, or abandoned).
    pub(crate) fn begin(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        RequestGuard(Arc::clone(self))
    }

    /// The connection is to close: its HTTP/1 responses tell the client so.
    pub(crate) fn set_closing(&self) {
        self.closing.store(true, Ordering::Release);
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Whether a request has been answered on this connection.
    pub(crate) fn served(&self) -> bool {
        self.last_done.load(Ordering::Acquire) != NEVER
    }

    /// Since when the connection has been idle: `None` while a request is in flight.
    pub(crate) fn idle_since(&self) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some(match self.last_done.load(Ordering::Acquire) {
            NEVER => self.opened,
            ms => self.opened + Duration::from_millis(ms),
        })
    }

    /// When the connection is to be closed as idle, if it stays as it is: `first` after it
    /// opened while it has sent no request, `idle` after its last request ended; `None` while
    /// a request is in flight.
    pub(crate) fn idle_deadline(&self, first: Duration, idle: Duration) -> Option<Instant> {
        let since = self.idle_since()?;
        Some(if self.last_done.load(Ordering::Acquire) == NEVER {
            since + first
        } else {
            since + idle
        })
    }
}

/// Marks a request in flight until dropped.
#[derive(Debug)]
pub(crate) struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let a = &self.0;
        let ms = u64::try_from(a.opened.elapsed().as_millis()).unwrap_or(NEVER - 1);
        a.last_done.store(ms.min(NEVER - 1), Ordering::Release);
        a.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The limits on open connections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub total: usize,
    pub per_client: usize,
}

/// Why a connection was refused at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Its address already holds `per_client` connections.
    PerClient,
    /// The global limit is reached and no connection is idle.
    Limit,
}

impl Refused {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Refused::PerClient => "per-client",
            Refused::Limit => "limit",
        }
    }
}

struct Entry {
    peer: IpAddr,
    activity: Arc<Activity>,
    close: Arc<Notify>,
    /// Asked to close (evicted, or the server is shutting down).
    closing: bool,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    open: HashMap<u64, Entry>,
    per_peer: HashMap<IpAddr, usize>,
    closing: usize,
}

/// The open connections.
pub(crate) struct Connections {
    limits: Limits,
    registry: Mutex<Registry>,
    count: watch::Sender<usize>,
    gauge: Gauge,
    closed: Family<ReasonLabels, Counter>,
}

impl Connections {
    pub(crate) fn new(
        limits: Limits,
        gauge: Gauge,
        closed: Family<ReasonLabels, Counter>,
    ) -> Arc<Self> {
        Arc::new(Self {
            limits,
            registry: Mutex::new(Registry::default()),
            count: watch::Sender::new(0),
            gauge,
            closed,
        })
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Admits a connection from `peer`, or says why not. At the global limit, the
    /// longest-idle connection is asked to close to make room.
    pub(crate) fn admit(self: &Arc<Self>, peer: IpAddr, now: Instant) -> Result<Slot, Refused> {
        let peer = peer.to_canonical();
        let mut reg = self.registry();
        if reg.per_peer.get(&peer).copied().unwrap_or(0) >= self.limits.per_client {
            return Err(Refused::PerClient);
        }
        if reg.open.len() - reg.closing >= self.limits.total
            && (reg.open.len() >= self.limits.total + EVICTION_SLACK || !self.evict(&mut reg))
        {
            return Err(Refused::Limit);
        }
        let id = reg.next_id;
        reg.next_id += 1;
        let activity = Arc::new(Activity::new(now));
        let close = Arc::new(Notify::new());
        reg.open.insert(
            id,
            Entry {
                peer,
                activity: Arc::clone(&activity),
                close: Arc::clone(&close),
                closing: false,
            },
        );
        *reg.per_peer.entry(peer).or_insert(0) += 1;
        let open = reg.open.len();
        drop(reg);
        self.count.send_replace(open);
        self.gauge.set(open as i64);
        Ok(Slot {
            connections: Arc::clone(self),
            id,
            activity,
            close,
        })
    }

    /// Asks an idle connection to close: the oldest that has served no request, else the one
    /// idle longest; false when none is idle.
    fn evict(&self, reg: &mut Registry) -> bool {
        let oldest = reg
            .open
            .iter()
            .filter(|(_, e)| !e.closing)
            .filter_map(|(id, e)| Some((e.activity.served(), e.activity.idle_since()?, *id)))
            .min();
        let Some((_, _, id)) = oldest else {
            return false;
        };
        if let Some(e) = reg.open.get_mut(&id) {
            e.closing = true;
            e.close.notify_one();
        }
        reg.closing += 1;
        self.closed
            .get_or_create(&ReasonLabels { reason: "evicted" })
            .inc();
        true
    }

    /// Gives up an idle connection as [`Connections::admit`] does at the limit (when `accept`
    /// ran out of descriptors); false when none is idle.
    pub(crate) fn evict_idle(&self) -> bool {
        self.evict(&mut self.registry())
    }

    /// Asks every connection to close (gracefully: in-flight requests are answered).
    pub(crate) fn close_all(&self) {
        let mut reg = self.registry();
        let mut newly = 0;
        for e in reg.open.values_mut() {
            if !e.closing {
                e.closing = true;
                e.close.notify_one();
                newly += 1;
            }
        }
        reg.closing += newly;
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> usize {
        *self.count.borrow()
    }

    /// Returns once no connection is open.
    pub(crate) async fn all_closed(&self) {
        let mut rx = self.count.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// Counts a connection closed for being idle.
    pub(crate) fn closed_idle(&self) {
        self.closed
            .get_or_create(&ReasonLabels { reason: "idle" })
            .inc();
    }

    fn release(&self, id: u64) {
        let mut reg = self.registry();
        if let Some(e) = reg.open.remove(&id) {
            if e.closing {
                reg.closing -= 1;
            }
            if let Some(n) = reg.per_peer.get_mut(&e.peer) {
                *n -= 1;
                if *n == 0 {
                    reg.per_peer.remove(&e.peer);
                }
            }
        }
        let open = reg.open.len();
        drop(reg);
        self.count.send_replace(open);
        self.gauge.set(open as i64);
    }
}

/// A connection's place among the open ones, given back when dropped.
pub(crate) struct Slot {
    connections: Arc<Connections>,
    id: u64,
    activity: Arc<Activity>,
    close: Arc<Notify>,
}

impl Slot {
    pub(crate) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// Completes when the connection is asked to close (evicted, or shutdown).
    pub(crate) async fn close_requested(&self) {
        self.close.notified().await;
    }

    pub(crate) fn connections(&self) -> &Connections {
        &self.connections
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connections.release(self.id);
    }
}

/// Lets one of a kind of message through per interval, and counts the others.
#[derive(Debug)]
pub(crate) struct Throttle {
    every: Duration,
    next: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    pub(crate) fn new(every: Duration) -> Self {
        Self {
            every,
            next: None,
            suppressed: 0,
        }
    }

    /// `Some(n)` when a message may be written now, `n` being how many were held back since the
    /// last one; `None` (and one more held back) otherwise.
    pub(crate) fn ready(&mut self, now: Instant) -> Option<u64> {
        match self.next {
            Some(next) if now < next => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.next = Some(now + self.every);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

/// The pause before the next `accept` after a failed one.
#[derive(Debug, Default)]
pub(crate) struct AcceptBackoff {
    delay: Duration,
}

/// The first pause after a failed `accept`, and the longest.
pub(crate) const BACKOFF_MIN: Duration = Duration::from_millis(10);
pub(crate) const BACKOFF_MAX: Duration = Duration::from_secs(1);

impl AcceptBackoff {
    pub(crate) fn succeeded(&mut self) {
        self.delay = Duration::ZERO;
    }

    /// How long to wait after `accept` failed with `e`: nothing for an error that belongs to
    /// one incoming connection (it is gone; the next may be fine), else a pause that doubles
    /// with every failure in a row, from [`BACKOFF_MIN`] to [`BACKOFF_MAX`].
    pub(crate) fn failed(&mut self, e: &std::io::Error) -> Duration {
        if connection_error(e) {
            return Duration::ZERO;
        }
        self.delay = (self.delay * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
        self.delay
    }
}

/// An `accept` error about one incoming connection, not about the listener or the process.
fn connection_error(e: &std::io::Error) -> bool {
    use rustix::io::Errno;
    matches!(
        Errno::from_io_error(e),
        Some(Errno::CONNABORTED | Errno::CONNRESET | Errno::PROTO | Errno::INTR | Errno::PERM)
    )
}

/// `accept` failed for lack of file descriptors or memory.
pub(crate) fn exhausted(e: &std::io::Error) -> bool {
    use rustix::io::Errno;
    matches!(
        Errno::from_io_error(e),
        Some(Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connections(total: usize, per_client: usize) -> Arc<Connections> {
        Connections::new(
            Limits { total, per_client },
            Gauge::default(),
            Family::default(),
        )
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn one_client_holds_at_most_its_share() {
        let c = connections(100, 2);
        let now = Instant::now();
        let a = c.admit(ip(2), now).unwrap();
        let _b = c.admit(ip(2), now).unwrap();
        assert_eq!(c.admit(ip(2), now).err(), Some(Refused::PerClient));
        // The same address written as IPv4-mapped IPv6 is the same client.
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
        assert_eq!(c.admit(mapped, now).err(), Some(Refused::PerClient));
        let _other = c.admit(ip(3), now).unwrap();
        drop(a);
        let _again = c.admit(ip(2), now).unwrap();
        assert_eq!(c.open(), 3);
    }

    #[test]
    fn at_the_limit_an_idle_connection_makes_room_served_ones_last() {
        use futures::FutureExt;
        let c = connections(3, 10);
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let asked = |s: &Slot| s.close_requested().now_or_never().is_some();
        // `served` has answered a request and is idle since; `fresh` has sent none; `busy` has
        // a request in flight.
        let served = c.admit(ip(2), at(0)).unwrap();
        drop(served.activity().begin());
        let fresh = c.admit(ip(3), at(1)).unwrap();
        let busy = c.admit(ip(4), at(2)).unwrap();
        let _busy_request = busy.activity().begin();
        // Full: a new connection gets in, and the idle one that has served nothing goes.
        let d = c.admit(ip(5), at(3)).unwrap();
        assert!(asked(&fresh));
        assert!(!asked(&served) && !asked(&busy));
        // Until it has closed it still counts (within the slack); the next unserved one goes,
        // the oldest first.
        let e = c.admit(ip(6), at(4)).unwrap();
        assert!(asked(&d));
        assert!(!asked(&served) && !asked(&e));
        // With no other idle connection, the served one goes too.
        let _e_request = e.activity().begin();
        let f = c.admit(ip(7), at(5)).unwrap();
        assert!(asked(&served));
        assert_eq!(c.open(), 6);
        // Everything else busy: refused.
        let _f_request = f.activity().begin();
        assert_eq!(c.admit(ip(8), at(6)).err(), Some(Refused::Limit));
        // Closed connections give their places back.
        drop((fresh, d, served));
        assert_eq!(c.open(), 3);
        assert_eq!(c.admit(ip(8), at(7)).err(), Some(Refused::Limit));
        drop(busy);
        assert!(c.admit(ip(8), at(8)).is_ok());
    }

    #[test]
    fn idle_deadlines_start_from_the_last_request() {
        let t0 = Instant::now();
        let a = Arc::new(Activity::new(t0));
        let first = Duration::from_secs(5);
        let idle = Duration::from_secs(120);
        assert_eq!(a.idle_deadline(first, idle), Some(t0 + first));
        let guard = a.begin();
        assert_eq!(a.idle_deadline(first, idle), None, "a request is in flight");
        drop(guard);
        let deadline = a.idle_deadline(first, idle).unwrap();
        assert!(deadline >= t0 + idle && deadline <= Instant::now() + idle);
    }

    #[test]
    fn failed_accepts_are_paced_and_logged_once_per_interval() {
        let emfile = std::io::Error::from_raw_os_error(rustix::io::Errno::MFILE.raw_os_error());
        let aborted =
            std::io::Error::from_raw_os_error(rustix::io::Errno::CONNABORTED.raw_os_error());
        assert!(exhausted(&emfile) && !exhausted(&aborted));
        let mut backoff = AcceptBackoff::default();
        assert_eq!(backoff.failed(&aborted), Duration::ZERO);
        let pauses: Vec<Duration> = (0..10).map(|_| backoff.failed(&emfile)).collect();
        assert_eq!(pauses[0], BACKOFF_MIN);
        assert!(pauses.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(*pauses.last().unwrap(), BACKOFF_MAX);
        backoff.succeeded();
        assert_eq!(backoff.failed(&emfile), BACKOFF_MIN);

        // A minute of failures, one every 10 ms: six lines, each with the count held back.
        let mut throttle = Throttle::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let written: Vec<u64> = (0..6000)
            .filter_map(|i| throttle.ready(t0 + Duration::from_millis(10 * i)))
            .collect();
        assert_eq!(written, [0, 999, 999, 999, 999, 999]);
    }
}
