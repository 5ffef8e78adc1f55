//! Reviews run on a thread of their own, one after another, instead of on the async workers that
//! do the TLS, the HTTP and the socket calls.
//!
//! Why: a review costs ~12 µs of CPU while its code and data stay in the caches (as in a loop
//! over reviews, `examples/review_cost.rs`), and two to three times that when it runs between
//! the TLS records, HTTP parsing and system calls of hundreds of connections, which evict the
//! large serde code of the Kubernetes types from the instruction cache. One thread that takes
//! the reviews in turn keeps them hot. On `bench/admission.sh`'s mix at 200 connections, server
//! CPU per request fell from 60–77 µs to 37–57 µs (null responder 23–34 µs, same runs).
//!
//! The queue is bounded: when it is full, handlers wait for room (backpressure on the
//! connections) rather than piling up work. Reviews are CPU only (no I/O, no locks held across
//! them), so one thread serves tens of thousands of reviews per second, far more than an API
//! server sends a webhook.

use std::sync::Arc;

use axum::body::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::config::Config;
use crate::policy::NamespaceLabels;
use crate::review::{BadRequest, Decision, review};

/// Reviews waiting for the thread, at most.
const QUEUE: usize = 1024;

struct Job {
    body: Bytes,
    reply: oneshot::Sender<Result<Decision, BadRequest>>,
}

/// The review thread did not answer: it is gone (it panicked; a release build aborts instead).
#[derive(Debug, thiserror::Error)]
#[error("the review thread is not running")]
pub(crate) struct ReviewerGone;

/// The handle the request handlers share; the thread ends when the last handle is dropped.
pub(crate) struct Reviewer {
    jobs: mpsc::Sender<Job>,
}

impl Reviewer {
    /// Starts the review thread, which owns what a review reads.
    pub(crate) fn spawn(
        config: Config,
        namespaces: Arc<dyn NamespaceLabels>,
        own_namespace: String,
    ) -> std::io::Result<Self> {
        let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("haven-review".into())
            .spawn(move || {
                while let Some(job) = queue.blocking_recv() {
                    let decision = review(&job.body, &config, namespaces.as_ref(), &own_namespace);
                    // The client may have gone (timeout, shutdown): nobody to answer.
                    let _ = job.reply.send(decision);
                }
            })?;
        Ok(Self { jobs })
    }

    /// Reviews one request body on the review thread.
    pub(crate) async fn review(
        &self,
        body: Bytes,
    ) -> Result<Result<Decision, BadRequest>, ReviewerGone> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { body, reply })
            .await
            .map_err(|_| ReviewerGone)?;
        answer.await.map_err(|_| ReviewerGone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StaticNamespaces;

    fn reviewer() -> Reviewer {
        Reviewer::spawn(
            Config::default(),
            Arc::new(StaticNamespaces::new()),
            "haven-system".into(),
        )
        .unwrap()
    }

    /// A Pod that meets the restricted profile, or one that runs privileged.
    fn pod_review(uid: &str, privileged: bool) -> Bytes {
        let security_context = if privileged {
            serde_json::json!({"privileged": true})
        } else {
            serde_json::json!({
                "runAsNonRoot": true,
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            })
        };
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
                    "metadata": {"name": "web"},
                    "spec": {"containers": [{
                        "name": "web",
                        "image": "registry.example.nl/web:1.0",
                        "securityContext": security_context,
                    }]},
                },
            },
        });
        Bytes::from(serde_json::to_vec(&body).unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_every_request_as_a_direct_review_would() {
        let reviewer = Arc::new(reviewer());
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

    #[tokio::test]
    async fn bad_requests_come_back_as_such() {
        let answer = reviewer().review(Bytes::from_static(b"{not json")).await;
        assert!(matches!(answer, Ok(Err(BadRequest(_)))), "{answer:?}");
    }
}
