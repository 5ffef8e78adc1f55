//! What upstream looks up on the internet, as haven does it when asked: `--online` (the platform in
//! `cncf/k8s-conformance`, live) and `--update-release-data` (fresh Kubernetes releases and CNCF
//! list). The requests and the reading of the answers live here; the HTTP itself is behind
//! [`HttpGet`], implemented at the edge (`haven_cluster::http`) and by a fake in tests, so this
//! crate stays free of I/O.
//!
//! Upstream (HCC v12.8) reads `https://api.github.com/repos/cncf/k8s-conformance/contents/v1.32/rke?ref=master`,
//! then that directory's `e2e.log`, and passes when the log reports no failure. We ask the same
//! API for every product directory the platform is certified under (`rke2`, `rke-government`,
//! `rke` for RKE2) and read the `e2e.log` the same way.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::release::{
    CncfData, KubernetesRelease, ReleaseData, parse_day, parse_minor, products_from_listing,
};
use crate::{CncfOnline, E2eSummary};

/// GitHub's REST API, where upstream looks.
pub const GITHUB_API: &str = "https://api.github.com";
/// The repository of CNCF conformance submissions.
pub const CNCF_REPO: &str = "cncf/k8s-conformance";
/// Where Kubernetes releases are tagged.
pub const KUBERNETES_REPO: &str = "kubernetes/kubernetes";

/// An answer to a GET: any status (a 404 is an answer, not an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why a GET got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: no answer within {seconds}s")]
    Timeout { url: String, seconds: u64 },
    #[error("{url}: the answer is larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
}

/// One HTTP GET with the caller's timeout and size limit. Implementations send
/// `Accept: application/vnd.github+json` and a `User-Agent` (GitHub refuses requests without one).
pub trait HttpGet {
    fn get(&self, url: &str) -> Result<HttpReply, FetchError>;
}

/// Why `--update-release-data` could not make fresh data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("{url}: HTTP {status}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        url: String,
        status: u16,
        /// GitHub's `message`, e.g. `API rate limit exceeded for ...`.
        message: Option<String>,
    },
    #[error("{url}: unexpected answer: {message}")]
    Unreadable { url: String, message: String },
    #[error("{url}: no directory v1.N of v{oldest} or later")]
    NoMinors { url: String, oldest: String },
}

/// Everything but RFC 3986's unreserved characters is percent-encoded in a path segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A percent-encoded path segment (product directories have spaces and parentheses).
fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// `{api}/repos/{repo}/contents/{path}?ref={reference}`.
pub fn contents_url(api: &str, repo: &str, path: &[&str], reference: &str) -> String {
    let path: String = path.iter().map(|p| format!("/{}", segment(p))).collect();
    format!(
        "{}/repos/{repo}/contents{path}?ref={}",
        api.trim_end_matches('/'),
        segment(reference)
    )
}

#[derive(Debug, Deserialize)]
struct ContentEntry {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    download_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GithubMessage {
    message: Option<String>,
}

fn github_message(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<GithubMessage>(body)
        .ok()
        .and_then(|m| m.message)
}

fn status_error(url: &str, reply: &HttpReply) -> UpdateError {
    UpdateError::Status {
        url: url.to_owned(),
        status: reply.status,
        message: github_message(&reply.body),
    }
}

fn read_json<T: serde::de::DeserializeOwned>(url: &str, body: &[u8]) -> Result<T, UpdateError> {
    serde_json::from_slice(body).map_err(|e| UpdateError::Unreadable {
        url: url.to_owned(),
        message: e.to_string(),
    })
}

/// A directory listing from the contents API; `None` when it does not exist (404).
fn list_dir(http: &dyn HttpGet, url: &str) -> Result<Option<Vec<ContentEntry>>, UpdateError> {
    let reply = http.get(url)?;
    match reply.status {
        200 => read_json(url, &reply.body).map(Some),
        404 => Ok(None),
        _ => Err(status_error(url, &reply)),
    }
}

/// The summary line Ginkgo ends an `e2e.log` with:
/// `SUCCESS! -- 441 Passed | 0 Failed | 0 Pending | 6907 Skipped` (or `FAIL! -- …`).
pub fn parse_e2e_summary(log: &str) -> Option<E2eSummary> {
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains(" Passed |") && l.contains(" Failed"))?;
    let count = |word: &str| -> Option<u64> {
        let at = line.find(word)?;
        line[..at].split_whitespace().last()?.parse().ok()
    };
    Some(E2eSummary {
        passed: count(" Passed")?,
        failed: count(" Failed")?,
    })
}

/// `--online`: look the platform up in `cncf/k8s-conformance` as upstream does. Each product
/// directory the platform is certified under is asked for in turn (`v1.37/rke2`, then
/// `v1.37/rke-government`, ...); the first that exists decides, and its `e2e.log` summary is read.
/// Any failure to ask (network, timeout, rate limit) is recorded in `error`: the offline list then
/// decides and the report says why.
pub fn cncf_online(
    http: &dyn HttpGet,
    api: &str,
    platform: &str,
    minor: (u32, u32),
    cncf: &CncfData,
) -> CncfOnline {
    let version = format!("{}.{}", minor.0, minor.1);
    let asked = cncf.products_of(platform);
    let mut online = CncfOnline {
        source: contents_url(api, CNCF_REPO, &[&format!("v{version}")], "master"),
        minor: version.clone(),
        found: None,
        asked: asked.clone(),
        e2e: None,
        note: None,
        error: None,
    };
    for dir in &asked {
        let url = contents_url(api, CNCF_REPO, &[&format!("v{version}"), dir], "master");
        match list_dir(http, &url) {
            Ok(None) => continue,
            Ok(Some(entries)) => {
                online.source = url;
                online.found = Some(dir.clone());
                let log = entries
                    .iter()
                    .find(|e| e.kind == "file" && e.name == "e2e.log")
                    .and_then(|e| e.download_url.clone());
                match log {
                    None => online.note = Some(format!("v{version}/{dir} has no e2e.log")),
                    Some(log_url) => match http.get(&log_url) {
                        Ok(r) if r.status == 200 => {
                            match parse_e2e_summary(&String::from_utf8_lossy(&r.body)) {
                                Some(s) => online.e2e = Some(s),
                                None => {
                                    online.note =
                                        Some(format!("{log_url}: no Ginkgo summary line found"))
                                }
                            }
                        }
                        Ok(r) => {
                            online.note = Some(status_error(&log_url, &r).to_string());
                        }
                        Err(e) => online.note = Some(e.to_string()),
                    },
                }
                return online;
            }
            Err(e) => {
                online.error = Some(e.to_string());
                return online;
            }
        }
    }
    online
}

#[derive(Debug, Deserialize)]
struct GithubRelease {
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    prerelease: bool,
    published_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GithubCommit {
    sha: String,
}

/// The day `v{minor}.0` was published on GitHub, `None` when there is no such release yet.
fn kubernetes_release_day(
    http: &dyn HttpGet,
    api: &str,
    minor: (u32, u32),
) -> Result<Option<String>, UpdateError> {
    let url = format!(
        "{}/repos/{KUBERNETES_REPO}/releases/tags/v{}.{}.0",
        api.trim_end_matches('/'),
        minor.0,
        minor.1
    );
    let reply = http.get(&url)?;
    match reply.status {
        404 => Ok(None),
        200 => {
            let r: GithubRelease = read_json(&url, &reply.body)?;
            if r.draft || r.prerelease {
                return Ok(None);
            }
            let day = r
                .published_at
                .as_deref()
                .and_then(|t| t.get(..10))
                .filter(|d| parse_day(d).is_some())
                .ok_or_else(|| UpdateError::Unreadable {
                    url: url.clone(),
                    message: "no published_at date".into(),
                })?;
            Ok(Some(day.to_owned()))
        }
        _ => Err(status_error(&url, &reply)),
    }
}

/// Fresh release data and what changed, for the operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Refreshed {
    pub data: ReleaseData,
    pub notes: Vec<String>,
}

/// `--update-release-data`: Kubernetes minors with the day GitHub published `v1.N.0`
/// (kubernetes/kubernetes releases), and every product directory of `cncf/k8s-conformance` per
/// minor (contents API, at the commit `master` pointed at). The haven release list, the aliases
/// and the rest are kept from `base`; hashes are dropped, as the result is not signed.
///
/// Requests: one per Kubernetes minor from the newest `base` counts as released until GitHub has
/// none (planned ones included), one for the CNCF commit, one for its top directory, one per
/// minor: about a dozen, well within GitHub's 60 unauthenticated requests an hour.
pub fn refresh_release_data(
    http: &dyn HttpGet,
    api: &str,
    base: &ReleaseData,
    today: jiff::civil::Date,
) -> Result<Refreshed, UpdateError> {
    let mut notes = Vec::new();
    // Kubernetes: confirm the newest released minor and every newer one (planned or not listed).
    let mut releases: BTreeMap<(u32, u32), KubernetesRelease> = base
        .kubernetes
        .releases
        .iter()
        .filter_map(|r| Some((parse_minor(&r.minor)?, r.clone())))
        .collect();
    let start = base
        .latest_kubernetes(today)
        .or_else(|| releases.keys().next().copied())
        .unwrap_or((1, 30));
    let newest_known = releases.keys().last().copied().unwrap_or(start);
    let mut minor = start;
    loop {
        let day = kubernetes_release_day(http, api, minor)?;
        let key = format!("{}.{}", minor.0, minor.1);
        match day {
            Some(day) => {
                let was = releases.get(&minor).map(|r| r.released.clone());
                if was.as_deref() != Some(day.as_str()) {
                    notes.push(match was {
                        Some(w) => format!("Kubernetes {key}: released {day} (was listed {w})"),
                        None => format!("Kubernetes {key}: released {day} (new)"),
                    });
                }
                releases.insert(
                    minor,
                    KubernetesRelease {
                        minor: key,
                        released: day,
                    },
                );
            }
            None => {
                // Not on GitHub: a planned release stays planned while its day is ahead; one whose
                // day has passed did not happen then and must not count.
                if let Some(r) = releases.get(&minor)
                    && parse_day(&r.released).is_none_or(|d| d <= today)
                {
                    notes.push(format!(
                        "Kubernetes {key}: listed for {}, but not released yet: left out",
                        r.released
                    ));
                    releases.remove(&minor);
                }
                if minor >= newest_known {
                    break;
                }
            }
        }
        minor = (minor.0, minor.1 + 1);
    }
    let mut kubernetes: Vec<KubernetesRelease> = releases.into_values().collect();
    kubernetes.reverse();

    // CNCF: every product directory of every minor from the oldest one kept, at one commit.
    let api = api.trim_end_matches('/');
    let commit_url = format!("{api}/repos/{CNCF_REPO}/commits/master");
    let reply = http.get(&commit_url)?;
    if reply.status != 200 {
        return Err(status_error(&commit_url, &reply));
    }
    let commit: GithubCommit = read_json(&commit_url, &reply.body)?;
    let oldest = base
        .cncf
        .minors
        .iter()
        .filter_map(|m| parse_minor(m))
        .min()
        .unwrap_or((1, 30));
    let top_url = contents_url(api, CNCF_REPO, &[], &commit.sha);
    let top = list_dir(http, &top_url)?.ok_or_else(|| UpdateError::Status {
        url: top_url.clone(),
        status: 404,
        message: None,
    })?;
    let mut paths = Vec::new();
    let mut dirs: Vec<(u32, u32)> = top
        .iter()
        .filter(|e| e.kind == "dir" && e.name.starts_with("v1."))
        .filter_map(|e| parse_minor(&e.name))
        .filter(|m| *m >= oldest)
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(UpdateError::NoMinors {
            url: top_url,
            oldest: format!("{}.{}", oldest.0, oldest.1),
        });
    }
    for m in dirs {
        let name = format!("v{}.{}", m.0, m.1);
        let url = contents_url(api, CNCF_REPO, &[&name], &commit.sha);
        let entries = list_dir(http, &url)?.unwrap_or_default();
        paths.extend(
            entries
                .into_iter()
                .filter(|e| e.kind == "dir")
                .map(|e| format!("{name}/{}", e.name)),
        );
    }
    let (minors, products) = products_from_listing(paths.iter().map(String::as_str), oldest);
    let day = today.to_string();
    if base.cncf.minors.last() != minors.last() {
        notes.push(format!(
            "CNCF list: now up to {} (was {})",
            minors.last().map(String::as_str).unwrap_or("-"),
            base.cncf.minors.last().map(String::as_str).unwrap_or("-")
        ));
    }
    let mut data = base.clone();
    data.date = day.clone();
    data.source = format!(
        "haven check --update-release-data on {day}: Kubernetes releases from GitHub ({KUBERNETES_REPO} release tags v1.N.0 and their publication day); the CNCF list from {CNCF_REPO} at {}; the haven release list from {} ({})",
        commit.sha, base.origin, base.date
    );
    data.note = format!(
        "Not signed: it lists no binary hashes, and the haven release list is that of {} ({}).",
        base.origin, base.date
    );
    data.kubernetes.releases = kubernetes;
    for r in &mut data.checker.releases {
        r.sha256.clear();
    }
    data.cncf = CncfData {
        source: format!(
            "github.com/{CNCF_REPO} at commit {}: the product directories v1.NN/* (derived: directory names per minor only), listed with GitHub's contents API",
            commit.sha
        ),
        commit: Some(commit.sha),
        listed_on: day,
        minors,
        products,
        ..base.cncf.clone()
    };
    data.signed_by = None;
    data.given = false;
    Ok(Refreshed { data, notes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Answers from a table; records what was asked.
    struct Fake {
        answers: BTreeMap<String, (u16, String)>,
        asked: RefCell<Vec<String>>,
        fail: Option<FetchError>,
    }

    impl Fake {
        fn new(answers: &[(&str, u16, &str)]) -> Self {
            Fake {
                answers: answers
                    .iter()
                    .map(|(u, s, b)| (u.to_string(), (*s, b.to_string())))
                    .collect(),
                asked: RefCell::default(),
                fail: None,
            }
        }
    }

    impl HttpGet for Fake {
        fn get(&self, url: &str) -> Result<HttpReply, FetchError> {
            self.asked.borrow_mut().push(url.to_owned());
            if let Some(e) = &self.fail {
                return Err(e.clone());
            }
            let (status, body) = self
                .answers
                .get(url)
                .cloned()
                .unwrap_or((404, r#"{"message":"Not Found"}"#.into()));
            Ok(HttpReply {
                status,
                body: body.into_bytes(),
            })
        }
    }

    const API: &str = "http://gh.test";

    #[test]
    fn e2e_summary() {
        let log = "Ran 441 of 7348 Specs in 6419.609 seconds\nSUCCESS! -- 441 Passed | 0 Failed | 0 Pending | 6907 Skipped\nPASS\n";
        assert_eq!(
            parse_e2e_summary(log),
            Some(E2eSummary {
                passed: 441,
                failed: 0
            })
        );
        let log = "FAIL! -- 400 Passed | 2 Failed | 0 Pending | 6907 Skipped\n";
        assert_eq!(
            parse_e2e_summary(log),
            Some(E2eSummary {
                passed: 400,
                failed: 2
            })
        );
        assert_eq!(parse_e2e_summary("no summary"), None);
    }

    #[test]
    fn urls_are_encoded() {
        assert_eq!(
            contents_url(API, CNCF_REPO, &[], "c0ffee"),
            "http://gh.test/repos/cncf/k8s-conformance/contents?ref=c0ffee"
        );
        assert_eq!(
            contents_url(API, CNCF_REPO, &["v1.31", "taikun (TKS)"], "master"),
            "http://gh.test/repos/cncf/k8s-conformance/contents/v1.31/taikun%20%28TKS%29?ref=master"
        );
    }

    #[test]
    fn online_tries_each_directory_and_reads_the_e2e_log() {
        let cncf = crate::ReleaseData::embedded().cncf;
        let rke2 = contents_url(API, CNCF_REPO, &["v1.38", "rke2"], "master");
        let gov = contents_url(API, CNCF_REPO, &["v1.38", "rke-government"], "master");
        let fake = Fake::new(&[
            (
                &gov,
                200,
                r#"[{"name":"PRODUCT.yaml","type":"file","download_url":"http://raw.test/p"},{"name":"e2e.log","type":"file","download_url":"http://raw.test/e2e.log"}]"#,
            ),
            (
                "http://raw.test/e2e.log",
                200,
                "SUCCESS! -- 420 Passed | 0 Failed | 0 Pending | 7000 Skipped\n",
            ),
        ]);
        let o = cncf_online(&fake, API, "rke2", (1, 38), &cncf);
        assert_eq!(o.found.as_deref(), Some("rke-government"));
        assert_eq!(o.error, None);
        assert_eq!(
            o.e2e,
            Some(E2eSummary {
                passed: 420,
                failed: 0
            })
        );
        assert_eq!(o.source, gov);
        assert_eq!(
            fake.asked.borrow().as_slice(),
            [rke2, gov.clone(), "http://raw.test/e2e.log".into()]
        );
        // Nowhere: not found, no error.
        let none = Fake::new(&[]);
        let o = cncf_online(&none, API, "rke2", (1, 38), &cncf);
        assert_eq!(o.found, None);
        assert_eq!(o.error, None);
        assert_eq!(none.asked.borrow().len(), 3, "rke2, rke-government, rke");
        // Rate limited: an error naming GitHub's message; the offline list decides.
        let limited = Fake::new(&[(
            &contents_url(API, CNCF_REPO, &["v1.38", "talos"], "master"),
            403,
            r#"{"message":"API rate limit exceeded for 192.0.2.1."}"#,
        )]);
        let o = cncf_online(&limited, API, "talos", (1, 38), &cncf);
        assert!(
            o.error
                .as_deref()
                .is_some_and(|e| e.contains("HTTP 403") && e.contains("API rate limit exceeded")),
            "{o:?}"
        );
        // No answer at all.
        let mut down = Fake::new(&[]);
        down.fail = Some(FetchError::Timeout {
            url: "u".into(),
            seconds: 3,
        });
        let o = cncf_online(&down, API, "talos", (1, 38), &cncf);
        assert_eq!(o.error.as_deref(), Some("u: no answer within 3s"));
    }

    fn release(tag: &str, day: &str) -> String {
        format!(
            r#"{{"tag_name":"{tag}","draft":false,"prerelease":false,"published_at":"{day}T16:00:00Z"}}"#
        )
    }

    #[test]
    fn refresh_reads_kubernetes_and_the_cncf_list() {
        let mut base = crate::ReleaseData::embedded();
        base.checker.releases[0].sha256 = vec!["ab".repeat(32)];
        let today = parse_day("2027-01-10").unwrap();
        let k = |m: &str| format!("{API}/repos/{KUBERNETES_REPO}/releases/tags/v{m}.0");
        let sha = "c0ffee";
        let fake = Fake::new(&[
            (&k("1.37"), 200, &release("v1.37.0", "2026-08-26")),
            // 1.38 came a day late; 1.39 is not out.
            (&k("1.38"), 200, &release("v1.38.0", "2026-12-17")),
            (
                &format!("{API}/repos/{CNCF_REPO}/commits/master"),
                200,
                &format!(r#"{{"sha":"{sha}"}}"#),
            ),
            (
                &contents_url(API, CNCF_REPO, &[], sha),
                200,
                r#"[{"name":"README.md","type":"file"},{"name":"v1.29","type":"dir"},{"name":"v1.37","type":"dir"},{"name":"v1.38","type":"dir"}]"#,
            ),
            (
                &contents_url(API, CNCF_REPO, &["v1.37"], sha),
                200,
                r#"[{"name":"rke2","type":"dir"},{"name":"talos","type":"dir"},{"name":"x.md","type":"file"}]"#,
            ),
            (
                &contents_url(API, CNCF_REPO, &["v1.38"], sha),
                200,
                r#"[{"name":"talos","type":"dir"}]"#,
            ),
        ]);
        let r = refresh_release_data(&fake, API, &base, today).unwrap();
        let d = &r.data;
        assert_eq!(d.date, "2027-01-10");
        assert_eq!(d.kubernetes.releases[0].minor, "1.38");
        assert_eq!(d.kubernetes.releases[0].released, "2026-12-17");
        assert_eq!(d.latest_kubernetes(today), Some((1, 38)));
        assert!(d.kubernetes.releases.iter().any(|r| r.minor == "1.30"));
        assert_eq!(d.cncf.minors, ["1.37", "1.38"]);
        assert_eq!(d.cncf.products["talos"], ["1.37", "1.38"]);
        assert_eq!(d.cncf.products["rke2"], ["1.37"]);
        assert_eq!(d.cncf.commit.as_deref(), Some(sha));
        assert_eq!(d.cncf.aliases, base.cncf.aliases);
        assert!(d.checker.releases.iter().all(|r| r.sha256.is_empty()));
        assert!(d.source.contains(sha), "{}", d.source);
        assert!(
            r.notes
                .iter()
                .any(|n| n == "Kubernetes 1.38: released 2026-12-17 (was listed 2026-12-16)"),
            "{:?}",
            r.notes
        );
        // The written form reads back.
        let back = ReleaseData::from_json("u", &d.to_json_text()).unwrap();
        assert_eq!(back.cncf, d.cncf);
    }

    #[test]
    fn a_planned_release_that_did_not_happen_is_left_out() {
        let base = crate::ReleaseData::embedded();
        let today = parse_day("2026-12-20").unwrap();
        let k = |m: &str| format!("{API}/repos/{KUBERNETES_REPO}/releases/tags/v{m}.0");
        let fake = Fake::new(&[
            (&k("1.37"), 200, &release("v1.37.0", "2026-08-26")),
            (
                &k("1.38"),
                200,
                r#"{"tag_name":"v1.38.0","draft":false,"prerelease":true,"published_at":"2026-12-01T00:00:00Z"}"#,
            ),
            (
                &format!("{API}/repos/{CNCF_REPO}/commits/master"),
                200,
                r#"{"sha":"s"}"#,
            ),
            (
                &contents_url(API, CNCF_REPO, &[], "s"),
                200,
                r#"[{"name":"v1.37","type":"dir"}]"#,
            ),
            (
                &contents_url(API, CNCF_REPO, &["v1.37"], "s"),
                200,
                r#"[{"name":"talos","type":"dir"}]"#,
            ),
        ]);
        let r = refresh_release_data(&fake, API, &base, today).unwrap();
        assert!(!r.data.kubernetes.releases.iter().any(|k| k.minor == "1.38"));
        assert_eq!(r.data.latest_kubernetes(today), Some((1, 37)));
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("1.38") && n.contains("not released yet")),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn refresh_errors_are_clear() {
        let base = crate::ReleaseData::embedded();
        let today = parse_day("2026-12-10").unwrap();
        let k = format!("{API}/repos/{KUBERNETES_REPO}/releases/tags/v1.37.0");
        let limited = Fake::new(&[(
            &k,
            403,
            r#"{"message":"API rate limit exceeded for 192.0.2.1."}"#,
        )]);
        let e = refresh_release_data(&limited, API, &base, today).unwrap_err();
        assert!(matches!(e, UpdateError::Status { status: 403, .. }), "{e}");
        assert_eq!(
            e.to_string(),
            format!("{k}: HTTP 403: API rate limit exceeded for 192.0.2.1.")
        );
        let garbage = Fake::new(&[(&k, 200, "<html>")]);
        let e = refresh_release_data(&garbage, API, &base, today).unwrap_err();
        assert!(matches!(e, UpdateError::Unreadable { .. }), "{e}");
        let mut down = Fake::new(&[]);
        down.fail = Some(FetchError::Transport {
            url: k.clone(),
            message: "connection refused".into(),
        });
        let e = refresh_release_data(&down, API, &base, today).unwrap_err();
        assert!(matches!(
            e,
            UpdateError::Fetch(FetchError::Transport { .. })
        ));
    }
}
