//! Reviews run on threads of their own, one after another, instead of on the async workers that
//! do the TLS, the HTTP and the socket calls.
//!
//! Why: a review costs ~12 µs of CPU while its code and data stay in the caches (as in a loop
//! over reviews, `examples/review_cost.rs`), and two to three times that when it runs between
//! the TLS records, HTTP parsing and system calls of hundreds of connections, which evict the
//! large serde code of the Kubernetes types from the instruction cache. One thread that takes
//! the reviews in turn keeps them hot. On `bench/admission.sh`'s mix at 200 connections, server
//! CPU per request fell from 60–77 µs to 37–57 µs (null responder 23–34 µs, same runs).
//!
//! Ordinary reviews take one such thread per core the process may use (at most
//! [`MAX_REVIEW_THREADS`]), sharing one queue. With a single thread, the kernel gave it one
//! runnable thread's share of the cores, and under load it became the bottleneck while the
//! async workers waited: on 2 cores, two threads served 4–12% more requests per second in
//! alternating runs (2026-12-04).
//!
//! On a single core (a CPU limit of one, or an affinity mask), ordinary reviews run inline on
//! the async worker instead. There the review thread would share the worker's caches anyway,
//! so it keeps nothing hot, and each request would pay the switches to it and back. With the
//! server pinned to one core, inline reviews served 2.4% more requests per second on the mean
//! of six alternating pairs of release builds (-3.5% to +7.4%), and 9–14% more in three
//! rounds of a build without LTO (2026-12-04).
//!
//! Large bodies take a second lane. A review's cost grows with its body: a 4 MB Pod with 5,100
//! containers takes ~32 ms, against ~30 µs for an ordinary one. On one shared thread, a client
//! sending such Pods in a loop would make every other request of the cluster wait behind them
//! (and, with `failurePolicy: Fail`, time out). So bodies above [`LARGE_BODY`] bytes or
//! [`LARGE_OBJECTS`] JSON objects queue for a thread of their own: they wait for each other,
//! never for the ordinary traffic or it for them. The object count matters as much as the
//! size: 124 KiB of minimal containers (3,871 of them) take ~10 ms.
//!
//! The queues are bounded: when one is full, handlers wait for room (backpressure on the
//! connections) rather than piling up work. Reviews are CPU only (no I/O, no locks held across
//! them), so one thread serves tens of thousands of ordinary reviews per second, far more than
//! an API server sends a webhook.

use std::sync::Arc;

use axum::body::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::config::Config;
use crate::policy::NamespaceLabels;
use crate::review::{BadRequest, Decision};

/// How a body is reviewed: [`crate::review::review`] (benchmarks may choose the engine
/// decoder alone).
pub(crate) type ReviewFn =
    fn(&[u8], &Config, &dyn NamespaceLabels, &str) -> Result<Decision, BadRequest>;

/// Threads for ordinary reviews, at most (one per available core below that).
const MAX_REVIEW_THREADS: usize = 8;

/// Ordinary reviews waiting for their thread, at most.
const QUEUE: usize = 1024;
/// Large reviews waiting for theirs, at most: each holds megabytes.
const LARGE_QUEUE: usize = 16;
/// Bodies larger than this (in bytes) are reviewed on the large lane. Pods, even with
/// `kubectl apply`'s last-applied annotation and managed fields, stay far below it; reviewing
/// one of this size takes about a millisecond.
pub(crate) const LARGE_BODY: usize = 128 * 1024;
/// Bodies with more JSON objects (counted as `{` bytes, strings included: an estimate that costs
/// a fraction of a microsecond) are reviewed on the large lane too. The benchmark's Pods, as an
/// API server sends them, hold 104–151.
pub(crate) const LARGE_OBJECTS: usize = 512;

/// Whether a body goes to the large lane. The count is `bytecount`'s vector count (AVX2 where
/// the CPU has it): a byte-by-byte count compiled to four bytes a step and took ~5% of the
/// server's CPU under load, and `memchr`'s search, one call per brace, ~1.5% (0.6 µs for the
/// benchmark's Pod, against 0.04 µs now).
fn is_large(body: &[u8]) -> bool {
    body.len() > LARGE_BODY || bytecount::count(body, b'{') > LARGE_OBJECTS
}

struct Job {
    body: Bytes,
    reply: oneshot::Sender<Result<Decision, BadRequest>>,
}

/// The review thread did not answer: it is gone (it panicked; a release build aborts instead).
#[derive(Debug, thiserror::Error)]
#[error("the review thread is not running")]
pub(crate) struct ReviewerGone;

/// The handle the request handlers share; the threads end when the last handle is dropped.
pub(crate) struct Reviewer {
    /// The ordinary lane; `None` on a single core, where ordinary reviews run inline.
    jobs: Option<mpsc::Sender<Job>>,
    large_jobs: mpsc::Sender<Job>,
    context: Arc<Context>,
}

/// What every review reads, shared by both lanes.
struct Context {
    config: Config,
    namespaces: Arc<dyn NamespaceLabels>,
    own_namespace: String,
    review: ReviewFn,
}

impl Context {
    fn review(&self, body: &[u8]) -> Result<Decision, BadRequest> {
        (self.review)(
            body,
            &self.config,
            self.namespaces.as_ref(),
            &self.own_namespace,
        )
    }
}

impl Reviewer {
    /// Starts the review threads, which share what a review reads.
    pub(crate) fn spawn(
        config: Config,
        namespaces: Arc<dyn NamespaceLabels>,
        own_namespace: String,
        review: ReviewFn,
    ) -> std::io::Result<Self> {
        // Respects a cgroup's CPU quota: a pod limited to one core gets one thread.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_REVIEW_THREADS);
        Self::with_threads(config, namespaces, own_namespace, review, threads)
    }

    /// [`Reviewer::spawn`] with `threads` threads for ordinary reviews (1: inline, no thread).
    fn with_threads(
        config: Config,
        namespaces: Arc<dyn NamespaceLabels>,
        own_namespace: String,
        review: ReviewFn,
        threads: usize,
    ) -> std::io::Result<Self> {
        let context = Arc::new(Context {
            config,
            namespaces,
            own_namespace,
            review,
        });
        let jobs = if threads > 1 {
            Some(lane("haven-review", threads, QUEUE, Arc::clone(&context))?)
        } else {
            None
        };
        Ok(Self {
            jobs,
            large_jobs: lane("haven-review-large", 1, LARGE_QUEUE, Arc::clone(&context))?,
            context,
        })
    }

    /// Reviews one request body on the lane its size belongs to.
    pub(crate) async fn review(
        &self,
        body: Bytes,
    ) -> Result<Result<Decision, BadRequest>, ReviewerGone> {
        let lane = if is_large(&body) {
            &self.large_jobs
        } else if let Some(jobs) = &self.jobs {
            jobs
        } else {
            return Ok(self.context.review(&body));
        };
        let (reply, answer) = oneshot::channel();
        lane.send(Job { body, reply })
            .await
            .map_err(|_| ReviewerGone)?;
        answer.await.map_err(|_| ReviewerGone)
    }
}

/// `threads` threads that review the jobs of one queue: each takes the next job when it is
/// free. (The queue's receiver is shared under a lock that its holder keeps while it waits for
/// a job: the others wait for the lock, which keeps the channel single-consumer.)
fn lane(
    name: &str,
    threads: usize,
    queue: usize,
    context: Arc<Context>,
) -> std::io::Result<mpsc::Sender<Job>> {
    let (jobs, waiting) = mpsc::channel::<Job>(queue);
    let waiting = Arc::new(std::sync::Mutex::new(waiting));
    for _ in 0..threads {
        spawn_reviewer(name, Arc::clone(&waiting), Arc::clone(&context))?;
    }
    Ok(jobs)
}

fn spawn_reviewer(
    name: &str,
    waiting: Arc<std::sync::Mutex<mpsc::Receiver<Job>>>,
    context: Arc<Context>,
) -> std::io::Result<()> {
    let next = move || {
        // A poisoned lock only means another reviewer panicked (a release build aborts).
        let mut waiting = waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.blocking_recv()
    };
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            while let Some(job) = next() {
                // The client has gone (timeout, shutdown) while the job waited: nobody to answer.
                if job.reply.is_closed() {
                    continue;
                }
                let decision = context.review(&job.body);
                // The client may have gone (timeout, shutdown): nobody to answer.
                let _ = job.reply.send(decision);
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StaticNamespaces;
    use crate::review::review;

    fn reviewer() -> Reviewer {
        Reviewer::spawn(
            Config::default(),
            Arc::new(StaticNamespaces::new()),
            "haven-system".into(),
            review,
        )
        .unwrap()
    }

    /// An AdmissionReview creating the Pod `name` with these containers.
    fn pod_create(uid: &str, name: &str, containers: serde_json::Value) -> Bytes {
        let body = serde_json::json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": uid,
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "namespace": "zaken",
                "operation": "CREATE",
                "userInfo": {"username": "alice"},
                "object": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": name},
                    "spec": {"containers": containers},
                },
            },
        });
        Bytes::from(serde_json::to_vec(&body).unwrap())
    }

    fn restricted_security_context() -> serde_json::Value {
        serde_json::json!({
            "runAsNonRoot": true,
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        })
    }

    /// A Pod that meets the restricted profile, or one that runs privileged.
    fn pod_review(uid: &str, privileged: bool) -> Bytes {
        let security_context = if privileged {
            serde_json::json!({"privileged": true})
        } else {
            restricted_security_context()
        };
        pod_create(
            uid,
            "web",
            serde_json::json!([{
                "name": "web",
                "image": "registry.example.nl/web:1.0",
                "securityContext": security_context,
            }]),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_every_request_as_a_direct_review_would() {
        for threads in [1, 2] {
            answers_as_a_direct_review_would(threads).await;
        }
    }

    /// With `threads` ordinary review threads (1: inline on the async worker).
    async fn answers_as_a_direct_review_would(threads: usize) {
        let reviewer = Arc::new(
            Reviewer::with_threads(
                Config::default(),
                Arc::new(StaticNamespaces::new()),
                "haven-system".into(),
                review,
                threads,
            )
            .unwrap(),
        );
        assert_eq!(reviewer.jobs.is_some(), threads > 1);
        let config = Config::default();
        let namespaces = StaticNamespaces::new();
        // Many at once, from several tasks: each answer must be its own request's.
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let reviewer = reviewer.clone();
                tokio::spawn(async move {
                    let body = pod_review(&format!("uid-{i}"), i % 3 == 0);
                    (body.clone(), reviewer.review(body).await)
                })
            })
            .collect();
        let mut denied = 0;
        for task in tasks {
            let (body, answer) = task.await.unwrap();
            let answer = answer.expect("the thread answers").expect("a valid review");
            let direct = review(&body, &config, &namespaces, "haven-system").unwrap();
            assert_eq!(answer, direct);
            denied += usize::from(answer.verdict == crate::Verdict::Denied);
        }
        assert_eq!(denied, 67);
    }

    /// A restricted-compliant Pod with `containers` containers: a body of about 300 bytes each.
    fn many_containers_review(uid: &str, containers: usize) -> Bytes {
        let containers: Vec<_> = (0..containers)
            .map(|i| {
                serde_json::json!({
                    "name": format!("c{i}"),
                    "image": "registry.example.nl/web:1.0",
                    "securityContext": restricted_security_context(),
                    "env": [{"name": "TZ", "value": "Europe/Amsterdam"}],
                })
            })
            .collect();
        pod_create(uid, "big", serde_json::Value::Array(containers))
    }

    #[tokio::test]
    async fn large_bodies_get_the_answers_of_a_direct_review() {
        let reviewer = reviewer();
        let config = Config::default();
        let namespaces = StaticNamespaces::new();
        let allowed = many_containers_review("large-allowed", 1_000);
        // Denied: a privileged container padded past the threshold with a long annotation.
        let mut denied: serde_json::Value =
            serde_json::from_slice(&pod_review("large-denied", true)).unwrap();
        denied["request"]["object"]["metadata"]["annotations"] =
            serde_json::json!({"note": "x".repeat(LARGE_BODY)});
        let denied = Bytes::from(serde_json::to_vec(&denied).unwrap());
        for (body, verdict) in [
            (allowed, crate::Verdict::Allowed),
            (denied, crate::Verdict::Denied),
        ] {
            assert!(body.len() > LARGE_BODY, "{} bytes", body.len());
            let answer = reviewer.review(body.clone()).await.unwrap().unwrap();
            assert_eq!(answer.verdict, verdict);
            assert_eq!(
                answer,
                review(&body, &config, &namespaces, "haven-system").unwrap()
            );
        }
    }

    /// Namespace labels that hold up the review of any request in namespace `slow` until the
    /// test lets it go, after saying that it has started.
    struct Gate {
        started: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>>,
        release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
    }

    impl NamespaceLabels for Gate {
        fn labels(&self, namespace: &str) -> Option<std::collections::BTreeMap<String, String>> {
            if namespace == "slow" {
                if let Some(started) = self.started.lock().unwrap().take() {
                    let _ = started.send(());
                }
                let _ = self.release.lock().unwrap().recv();
            }
            None
        }

        fn synced(&self) -> bool {
            true
        }
    }

    #[test]
    fn bodies_go_to_the_large_lane_by_size_or_by_object_count() {
        assert!(!is_large(&pod_review("a", false)));
        let many_small = pod_create(
            "b",
            "p",
            serde_json::Value::Array(
                (0..600)
                    .map(|i| serde_json::json!({"name": format!("c{i}"), "image": "x"}))
                    .collect(),
            ),
        );
        assert!(many_small.len() < LARGE_BODY, "{}", many_small.len());
        assert!(is_large(&many_small));
        assert!(is_large(&many_containers_review("c", 1_000)));
        // The count's boundary: more than LARGE_OBJECTS, strings included.
        let braces = |n: usize| format!("[{}]", vec!["{}"; n].join(",")).into_bytes();
        assert!(!is_large(&braces(LARGE_OBJECTS)));
        assert!(is_large(&braces(LARGE_OBJECTS + 1)));
        assert!(is_large(
            format!("\"{}\"", "{".repeat(LARGE_OBJECTS + 1)).as_bytes()
        ));
        assert!(!is_large(&vec![b'x'; LARGE_BODY]));
        assert!(is_large(&vec![b'x'; LARGE_BODY + 1]));
    }

    /// Starts a reviewer with `threads` ordinary threads whose namespace lookups for `slow`
    /// block until released, and a review of `held` (moved to namespace `slow`); returns once
    /// that review has started, with the reviewer, the review and its release.
    async fn hold(
        threads: usize,
        held: Bytes,
    ) -> (
        Arc<Reviewer>,
        tokio::task::JoinHandle<Result<Result<Decision, BadRequest>, ReviewerGone>>,
        std::sync::mpsc::Sender<()>,
    ) {
        let (started_tx, started) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel();
        let gate = Gate {
            started: std::sync::Mutex::new(Some(started_tx)),
            release: std::sync::Mutex::new(release_rx),
        };
        let reviewer = Arc::new(
            Reviewer::with_threads(
                Config::default(),
                Arc::new(gate),
                "haven-system".into(),
                review,
                threads,
            )
            .unwrap(),
        );
        let mut held: serde_json::Value = serde_json::from_slice(&held).unwrap();
        held["request"]["namespace"] = "slow".into();
        let held = Bytes::from(serde_json::to_vec(&held).unwrap());
        let review = tokio::spawn({
            let reviewer = Arc::clone(&reviewer);
            async move { reviewer.review(held).await }
        });
        tokio::task::spawn_blocking(move || started.recv())
            .await
            .unwrap()
            .expect("the held review starts");
        (reviewer, review, release)
    }

    /// Ten ordinary reviews are answered while `held` is held up; then it is released and
    /// answered too.
    async fn answered_meanwhile(
        reviewer: &Reviewer,
        held: tokio::task::JoinHandle<Result<Result<Decision, BadRequest>, ReviewerGone>>,
        release: std::sync::mpsc::Sender<()>,
    ) {
        for i in 0..10 {
            let answer = tokio::time::timeout(
                std::time::Duration::from_secs(60),
                reviewer.review(pod_review(&format!("o{i}"), i % 2 == 0)),
            )
            .await
            .expect("an ordinary request is answered while another review is held up");
            assert!(matches!(answer, Ok(Ok(_))), "{answer:?}");
        }
        assert!(!held.is_finished(), "the held review is still held up");
        release.send(()).unwrap();
        let answer = held.await.unwrap();
        assert!(matches!(answer, Ok(Ok(_))), "{answer:?}");
    }

    /// Ordinary reviews share their threads' queue: while one ordinary review is held up, the
    /// other thread answers the rest. (With one thread the test would time out.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ordinary_reviews_use_every_review_thread() {
        let held = pod_review("held", true);
        assert!(!is_large(&held));
        let (reviewer, held, release) = hold(2, held).await;
        answered_meanwhile(&reviewer, held, release).await;
    }

    /// The large lane keeps ordinary requests from waiting behind a slow one: while a large Pod's
    /// review is held up, ordinary Pods are still answered, also on a single core (ordinary
    /// reviews inline). On one shared thread they would wait for it (here: forever, and the
    /// test would time out).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ordinary_requests_do_not_wait_behind_a_large_one() {
        let large = many_containers_review("large", 1_000);
        assert!(is_large(&large));
        let (reviewer, held, release) = hold(1, large).await;
        answered_meanwhile(&reviewer, held, release).await;
    }

    #[tokio::test]
    async fn bad_requests_come_back_as_such() {
        let answer = reviewer().review(Bytes::from_static(b"{not json")).await;
        assert!(matches!(answer, Ok(Err(BadRequest(_)))), "{answer:?}");
    }
}
