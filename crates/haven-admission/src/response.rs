//! The AdmissionReview response: what a verdict says, built once and serialized straight to JSON
//! bytes (keys in the byte order a `serde_json::Value` map would print them, so the wire format
//! is that of the first versions of the webhook, byte for byte).
//!
//! Its size is bounded whatever the object: each list (the denial, the audit annotation, the
//! warnings) names at most [`Limits::per_rule`] violations of each rule and then how many
//! more there are, and a path or message longer than [`MAX_PATH`] or [`MAX_MESSAGE`] bytes is
//! cut. A Pod of 125,000 containers, every one breaking four rules, would otherwise be denied
//! with a 100 MB message (which the API server passes on to the client and into audit logs).

use crate::policy::{ModePolicy, NamespacePolicy};
use crate::review::Verdict;

pub(crate) const EXEMPT_ANNOTATION: &str = "haven.commonground.nl/exempt";
pub(crate) const AUDIT_ANNOTATION: &str = "haven.commonground.nl/audit-violations";

/// The response, written as JSON text with the keys in order.
struct Json(Vec<u8>);

impl Json {
    /// `{"apiVersion":…,"kind":"AdmissionReview","response":{"allowed":<allowed>`.
    fn new(allowed: bool, capacity: usize) -> Self {
        let mut out = Vec::with_capacity(128 + capacity);
        out.extend_from_slice(
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"allowed":"#,
        );
        out.extend_from_slice(if allowed { b"true" } else { b"false" });
        Json(out)
    }

    /// JSON text as is.
    fn raw(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }

    /// Part of a JSON string's content, escaped.
    fn text(&mut self, s: &str) {
        escape(&mut self.0, s);
    }

    /// `"auditAnnotations":{"<key>":"` … (the caller writes the value and closes).
    fn annotation(&mut self, key: &str) {
        self.raw(r#","auditAnnotations":{""#);
        self.raw(key);
        self.raw(r#"":""#);
    }

    /// `,"uid":"<uid>"`.
    fn uid(&mut self, uid: &str) {
        self.raw(r#","uid":""#);
        self.text(uid);
        self.raw("\"");
    }

    fn finish(mut self) -> Vec<u8> {
        self.raw("}}");
        self.0
    }
}

/// Escapes `s` into `out` exactly as `serde_json` does: `"` and `\` backslashed, control
/// characters as `\b`, `\t`, `\n`, `\f`, `\r` or `\u00xx`; everything else as is. Eight bytes at
/// a time while none needs escaping.
pub(crate) fn escape(out: &mut Vec<u8>, s: &str) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `w` that is a control character, `"` or `\`. The lowest
    // set bit is always exact (higher ones may be borrows), which is all the loop uses.
    let special = |w: u64| {
        let zero = |x: u64| x.wrapping_sub(ONES) & !x;
        (w.wrapping_sub(ONES * 0x20) & !w
            | zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\'))))
            & HIGH
    };
    let bytes = s.as_bytes();
    out.reserve(bytes.len());
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            let mask = special(word);
            if mask == 0 {
                i += 8;
                continue;
            }
            i += (mask.trailing_zeros() / 8) as usize;
        }
        let b = bytes[i];
        let escaped: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&bytes[run..i]);
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
                i += 1;
                run = i;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[run..i]);
        out.extend_from_slice(escaped);
        i += 1;
        run = i;
    }
    out.extend_from_slice(&bytes[run..]);
}

/// Allowed, nothing to add.
pub(crate) fn allow(uid: &str) -> Vec<u8> {
    let mut json = Json::new(true, uid.len());
    json.uid(uid);
    json.finish()
}

/// Allowed without evaluation: an exempt namespace, user or runtime class.
pub(crate) fn exempt(uid: &str) -> Vec<u8> {
    let mut json = Json::new(true, 64 + uid.len());
    json.annotation(EXEMPT_ANNOTATION);
    json.raw(r#"true"}"#);
    json.uid(uid);
    json.finish()
}

/// Denied with an HTTP-style status (400: the object cannot be read).
pub(crate) fn deny(uid: &str, code: u16, message: &str) -> Vec<u8> {
    let mut json = Json::new(false, 64 + uid.len() + message.len());
    status(&mut json, code);
    json.text(message);
    json.raw("\"}");
    json.uid(uid);
    json.finish()
}

/// `,"status":{"code":<code>,"message":"` (the caller writes the message and closes).
fn status(json: &mut Json, code: u16) {
    json.raw(r#","status":{"code":"#);
    json.raw(&code.to_string());
    json.raw(r#","message":""#);
}

/// What the response needs of a finding.
pub(crate) trait Hit: PartialEq {
    fn rule(&self) -> &'static str;
    fn path(&self) -> &str;
    fn message(&self) -> &str;
}

impl Hit for haven_model::Finding {
    fn rule(&self) -> &'static str {
        self.rule
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn message(&self) -> &str {
        &self.message
    }
}

/// A field path longer than this (bytes) is cut in a response: only a client that sends a
/// made-up object has such paths.
pub(crate) const MAX_PATH: usize = 256;
/// A message longer than this (bytes) is cut in a response (messages quote container names,
/// which an API server limits to 63 characters, but a client may send anything).
pub(crate) const MAX_MESSAGE: usize = 512;

/// How much of the findings a response lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Violations of one rule listed in each list; the rest are counted.
    pub per_rule: usize,
}

/// An entry of a capped list: a finding, or how many more findings of a rule there are.
enum Entry<'f, F> {
    Hit(&'f F),
    More { rule: &'static str, count: usize },
}

/// `findings` (sorted by rule) with at most `per_rule` of each rule, each rule's rest counted
/// in one [`Entry::More`].
fn capped<'f, F: Hit + 'f>(
    findings: impl IntoIterator<Item = &'f F>,
    per_rule: usize,
) -> impl Iterator<Item = Entry<'f, F>> {
    Capped {
        findings: findings.into_iter().peekable(),
        per_rule: per_rule.max(1),
        rule: None,
        listed: 0,
    }
}

/// The iterator of [`capped`] (no allocation per rule: it runs on every response).
struct Capped<'f, F: 'f, I: Iterator<Item = &'f F>> {
    findings: std::iter::Peekable<I>,
    per_rule: usize,
    /// The rule of the findings being listed, and how many of them have been.
    rule: Option<&'static str>,
    listed: usize,
}

impl<'f, F: Hit + 'f, I: Iterator<Item = &'f F>> Iterator for Capped<'f, F, I> {
    type Item = Entry<'f, F>;

    fn next(&mut self) -> Option<Entry<'f, F>> {
        let rule = self.findings.peek()?.rule();
        if self.rule != Some(rule) {
            self.rule = Some(rule);
            self.listed = 0;
        }
        if self.listed < self.per_rule {
            self.listed += 1;
            return self.findings.next().map(Entry::Hit);
        }
        let mut count = 0;
        while self.findings.next_if(|f| f.rule() == rule).is_some() {
            count += 1;
        }
        Some(Entry::More { rule, count })
    }
}

/// `and N more violations of <rule>`.
fn more(json: &mut Json, rule: &str, count: usize) {
    json.raw("and ");
    json.raw(&count.to_string());
    json.raw(" more violations of ");
    json.raw(rule);
}

/// `rule at path: message`, escaped, without the message's `said` suffix, path and message cut
/// at [`MAX_PATH`] and [`MAX_MESSAGE`] bytes.
fn hit(json: &mut Json, f: &impl Hit, said: &str) {
    // Rule ids are letters, digits and `-_.` (the registry's tests hold them to that, as
    // annotation keys): nothing to escape.
    debug_assert!(
        f.rule()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    );
    json.raw(f.rule());
    json.raw(" at ");
    json.text(&crate::review::clip(f.path(), MAX_PATH));
    json.raw(": ");
    let message = f.message();
    json.text(&crate::review::clip(
        message.strip_suffix(said).unwrap_or(message),
        MAX_MESSAGE,
    ));
}

/// A Pod Security finding's message ends with the policy it was checked against
/// (` [Pod Security restricted:v1.37]`), which stands on its own in `haven app check`'s output.
/// A response names its policy once, before the list ("would violate restricted:v1.37: …"):
/// repeated after every item it would only lengthen what `kubectl` prints, and the response by
/// a sixth. This is the suffix that the items under `mode` leave out.
fn said_before(mode: &ModePolicy) -> String {
    match mode.pss {
        Some((level, version)) => format!(" [Pod Security {level}:{version}]"),
        None => String::new(),
    }
}

/// The findings as `rule at path: message`, joined by `; `, escaped, capped by `limits`.
fn summary<F: Hit>(json: &mut Json, findings: &[F], said: &str, limits: Limits) {
    for (i, entry) in capped(findings, limits.per_rule).enumerate() {
        if i > 0 {
            json.raw("; ");
        }
        match entry {
            Entry::Hit(f) => hit(json, f, said),
            Entry::More { rule, count } => more(json, rule, count),
        }
    }
}

/// Bytes the listed findings take in the response (about), for its capacity.
fn size<F: Hit>(findings: &[F], limits: Limits) -> usize {
    capped(findings, limits.per_rule)
        .map(|e| match e {
            Entry::Hit(f) => {
                f.rule().len() + f.path().len().min(MAX_PATH) + f.message().len().min(MAX_MESSAGE)
            }
            Entry::More { rule, .. } => rule.len() + 32,
        } + 8)
        .sum()
}

/// The findings of the three modes. `None` for audit or warn: the mode checks exactly what
/// enforce checks, so its findings are enforce's.
pub(crate) struct Found<'a, F> {
    pub enforced: &'a [F],
    pub audited: Option<&'a [F]>,
    pub warned: Option<&'a [F]>,
}

/// The verdict on an evaluated object and its response: Pods that violate the enforce policy
/// are denied with every rule id and field path; controllers get warnings for what their Pods
/// would be denied, like upstream Pod Security Admission; audit violations become an audit
/// annotation; warn-mode violations become warnings.
pub(crate) fn evaluated<F: Hit>(
    uid: &str,
    name: &str,
    // The resource (plural) whose enforce violations deny it: Pods, and the objects the
    // `nl.*` rules judge whole; `None`: pod controllers, which are warned instead.
    deny_as: Option<&str>,
    policy: &NamespacePolicy,
    found: &Found<'_, F>,
    limits: Limits,
) -> (Verdict, Vec<u8>) {
    let enforced = found.enforced;
    let audited = found.audited.unwrap_or(enforced);
    let warned: &[F] = found.warned.unwrap_or_default();
    let is_pod = deny_as.is_some();
    let denied = is_pod && !enforced.is_empty();
    // Controllers are warned of every enforce violation; warn-mode violations that enforce
    // does not report are warnings for every kind. (A set, not a search of `enforced` per
    // warning: with a finding per container, that was quadratic in the containers.)
    let enforce_warnings = if is_pod { 0 } else { enforced.len() };
    let warned_only: Vec<&F> = if warned.is_empty() {
        Vec::new()
    } else {
        let reported: std::collections::HashSet<(&str, &str, &str)> = enforced
            .iter()
            .map(|f| (f.rule(), f.path(), f.message()))
            .collect();
        warned
            .iter()
            .filter(|w| !reported.contains(&(w.rule(), w.path(), w.message())))
            .collect()
    };
    let warn_warnings = warned_only.len();
    let name = crate::review::clip(name, MAX_MESSAGE);
    let capacity = 2 * size(enforced, limits)
        + size(audited, limits)
        + size(warned, limits)
        + name.len()
        + uid.len();
    let mut json = Json::new(!denied, capacity);
    // A denial whose audit checks what enforce checks says the same summary twice: escape once.
    let mut shared: Option<Vec<u8>> = None;
    if !audited.is_empty() {
        json.annotation(AUDIT_ANNOTATION);
        json.raw("would violate ");
        json.text(&policy.audit.describe());
        json.raw(": ");
        let start = json.0.len();
        summary(&mut json, audited, &said_before(&policy.audit), limits);
        if denied && found.audited.is_none() {
            shared = Some(json.0[start..].to_vec());
        }
        json.raw("\"}");
    }
    if denied {
        status(&mut json, 403);
        json.text(deny_as.unwrap_or("pods"));
        json.raw(" \\\"");
        json.text(&name);
        json.raw("\\\" is forbidden: violates haven policy \\\"");
        json.text(&policy.enforce.describe());
        json.raw("\\\": ");
        match &shared {
            Some(escaped) => json.0.extend_from_slice(escaped),
            None => summary(&mut json, enforced, &said_before(&policy.enforce), limits),
        }
        json.raw("\"}");
        json.uid(uid);
        return (Verdict::Denied, json.finish());
    }
    json.uid(uid);
    if enforce_warnings + warn_warnings > 0 {
        json.raw(r#","warnings":["#);
        let mut first = true;
        let mut warn = |json: &mut Json, (described, said): (&str, &str), entry: Entry<'_, F>| {
            json.raw(if first { "\"" } else { ",\"" });
            first = false;
            json.raw("would violate ");
            json.text(described);
            json.raw(": ");
            match entry {
                Entry::Hit(f) => hit(json, f, said),
                Entry::More { rule, count } => more(json, rule, count),
            }
            json.raw("\"");
        };
        if enforce_warnings > 0 {
            let (described, said) = (policy.enforce.describe(), said_before(&policy.enforce));
            for entry in capped(enforced, limits.per_rule) {
                warn(&mut json, (&described, &said), entry);
            }
        }
        if warn_warnings > 0 {
            let (described, said) = (policy.warn.describe(), said_before(&policy.warn));
            for entry in capped(warned_only.iter().copied(), limits.per_rule) {
                warn(&mut json, (&described, &said), entry);
            }
        }
        json.raw("]");
    }
    let verdict = if enforce_warnings + warn_warnings == 0 {
        Verdict::Allowed
    } else {
        Verdict::Warned
    };
    (verdict, json.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_serde_json() {
        let mut all = String::new();
        for c in (0u8..0x80)
            .map(char::from)
            .chain(['é', '\u{2028}', '😀', '\u{7f}'])
        {
            all.push(c);
        }
        for text in [
            String::new(),
            "plain text longer than eight bytes".to_owned(),
            "pods \"web\" is forbidden: \\ \n\t end".to_owned(),
            all.clone(),
            all.repeat(3),
            format!("{}\"", "x".repeat(15)),
        ] {
            for start in 0..text.len().min(9) {
                let Some(part) = text.get(start..) else {
                    continue;
                };
                let mut out = Vec::new();
                escape(&mut out, part);
                let expected = serde_json::to_string(part).unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    expected[1..expected.len() - 1],
                    "{part:?}"
                );
            }
        }
    }

    #[test]
    fn hits_leave_out_the_policy_the_response_names_once() {
        struct F(&'static str);
        impl PartialEq for F {
            fn eq(&self, other: &Self) -> bool {
                self.0 == other.0
            }
        }
        impl Hit for F {
            fn rule(&self) -> &'static str {
                "pss.privileged"
            }
            fn path(&self) -> &str {
                "spec.containers[0]"
            }
            fn message(&self) -> &str {
                self.0
            }
        }
        let mode = ModePolicy {
            pss: Some((haven_pss::Level::Restricted, haven_pss::Version::LATEST)),
            haven: false,
            plus: false,
        };
        let said = said_before(&mode);
        assert_eq!(said, " [Pod Security restricted:v1.37]");
        let written = |message: &'static str, said: &str| {
            let mut json = Json::new(true, 0);
            let start = json.0.len();
            hit(&mut json, &F(message), said);
            String::from_utf8(json.0[start..].to_vec()).unwrap()
        };
        assert_eq!(
            written(
                "privileged (container \"web\") [Pod Security restricted:v1.37]",
                &said
            ),
            "pss.privileged at spec.containers[0]: privileged (container \\\"web\\\")"
        );
        // Another policy's suffix, or none, is kept.
        for kept in ["x [Pod Security baseline:v1.37]", "plain", ""] {
            assert!(written(kept, &said).ends_with(&kept.replace('"', "\\\"")));
        }
        assert_eq!(said_before(&ModePolicy { pss: None, ..mode }), "");
    }

    #[test]
    fn plain_responses_are_those_of_a_json_tree() {
        let uid = "u\"1\u{1}";
        let tree = |extra: serde_json::Value| {
            let mut response =
                serde_json::json!({"uid": uid, "allowed": extra["allowed"].as_bool().unwrap()});
            for (k, v) in extra.as_object().unwrap() {
                if k != "allowed" {
                    response[k] = v.clone();
                }
            }
            serde_json::to_vec(&serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response})).unwrap()
        };
        assert_eq!(allow(uid), tree(serde_json::json!({"allowed": true})));
        assert_eq!(
            exempt(uid),
            tree(
                serde_json::json!({"allowed": true, "auditAnnotations": {EXEMPT_ANNOTATION: "true"}})
            )
        );
        assert_eq!(
            deny(uid, 400, "bad \"x\""),
            tree(
                serde_json::json!({"allowed": false, "status": {"code": 400, "message": "bad \"x\""}})
            )
        );
    }

    /// A finding for tests: rule, path, message.
    #[derive(PartialEq)]
    struct T(&'static str, String, String);

    impl Hit for T {
        fn rule(&self) -> &'static str {
            self.0
        }
        fn path(&self) -> &str {
            &self.1
        }
        fn message(&self) -> &str {
            &self.2
        }
    }

    /// Four violations for each of `containers` containers, sorted by rule as decoders sort.
    fn per_container(containers: usize) -> Vec<T> {
        let mut all = Vec::new();
        for rule in [
            "pss.allowPrivilegeEscalation",
            "pss.capabilities_restricted",
            "pss.runAsNonRoot",
            "pss.seccompProfile_restricted",
        ] {
            for i in 0..containers {
                all.push(T(
                    rule,
                    format!("spec.containers[{i}].securityContext"),
                    format!("container \"c{i}\" must set it [Pod Security restricted:v1.37]"),
                ));
            }
        }
        all
    }

    fn restricted() -> NamespacePolicy {
        let mode = ModePolicy {
            pss: Some((haven_pss::Level::Restricted, haven_pss::Version::LATEST)),
            haven: false,
            plus: false,
        };
        NamespacePolicy {
            enforce: mode,
            audit: mode,
            warn: mode,
            tenant: Default::default(),
        }
    }

    #[test]
    fn responses_list_a_few_violations_per_rule_and_count_the_rest() {
        // A Pod of 125,000 containers, each breaking four rules: without a cap the denial
        // would be ~100 MB.
        let findings = per_container(125_000);
        let limits = Limits { per_rule: 10 };
        let found = Found {
            enforced: &findings,
            audited: None,
            warned: None,
        };
        let policy = restricted();
        let (verdict, bytes) = evaluated("u1", "web", Some("pods"), &policy, &found, limits);
        assert_eq!(verdict, Verdict::Denied);
        assert!(bytes.len() < 16 * 1024, "{} bytes", bytes.len());
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let message = json["response"]["status"]["message"].as_str().unwrap();
        for rule in [
            "pss.allowPrivilegeEscalation",
            "pss.capabilities_restricted",
            "pss.runAsNonRoot",
            "pss.seccompProfile_restricted",
        ] {
            assert_eq!(
                message.matches(&format!("{rule} at ")).count(),
                10,
                "{message}"
            );
            assert!(
                message.contains(&format!("and 124990 more violations of {rule}")),
                "{message}"
            );
        }
        assert!(message.contains("spec.containers[9].securityContext"));
        assert!(!message.contains("spec.containers[10].securityContext"));
        // The audit annotation says the same.
        let audit = json["response"]["auditAnnotations"][AUDIT_ANNOTATION]
            .as_str()
            .unwrap();
        assert!(audit.contains("and 124990 more violations of pss.runAsNonRoot"));

        // A controller's warnings: ten per rule and one that counts the rest.
        let (verdict, bytes) = evaluated("u2", "web", None, &policy, &found, limits);
        assert_eq!(verdict, Verdict::Warned);
        assert!(bytes.len() < 16 * 1024, "{} bytes", bytes.len());
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let warnings = json["response"]["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 4 * 11);
        assert!(
            warnings[10]
                .as_str()
                .unwrap()
                .ends_with(": and 124990 more violations of pss.allowPrivilegeEscalation")
        );

        // Under the cap, every violation is listed and nothing is counted.
        let few = per_container(3);
        let found = Found {
            enforced: &few,
            audited: None,
            warned: None,
        };
        let (_, bytes) = evaluated("u3", "web", Some("pods"), &policy, &found, limits);
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text.matches("pss.runAsNonRoot at ").count(), 2 * 3);
        assert!(!text.contains("more violations"));
    }

    #[test]
    fn warned_only_findings_are_found_without_a_search_per_warning() {
        // Enforce baseline finds nothing, warn restricted finds 4 x 125,000: the warnings are
        // those not enforced, found through a set (a search of the enforced findings for each
        // warning was quadratic).
        let warned = per_container(125_000);
        let enforced = per_container(125_000);
        let found = Found {
            enforced: &enforced[..0],
            audited: Some(&enforced[..0]),
            warned: Some(&warned),
        };
        let mut policy = restricted();
        policy.enforce.pss = Some((haven_pss::Level::Baseline, haven_pss::Version::LATEST));
        let (verdict, bytes) = evaluated(
            "u",
            "web",
            Some("pods"),
            &policy,
            &found,
            Limits { per_rule: 2 },
        );
        assert_eq!(verdict, Verdict::Warned);
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            json["response"]["warnings"].as_array().unwrap().len(),
            4 * 3
        );
        // Enforced and warned alike: nothing left to warn of (a Pod's enforce violations deny).
        let found = Found {
            enforced: &enforced,
            audited: None,
            warned: Some(&warned),
        };
        let (verdict, bytes) = evaluated(
            "u",
            "web",
            Some("pods"),
            &restricted(),
            &found,
            Limits { per_rule: 2 },
        );
        assert_eq!(verdict, Verdict::Denied);
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert!(json["response"].get("warnings").is_none());
    }

    #[test]
    fn long_paths_and_messages_are_cut() {
        let long = vec![T(
            "pss.privileged",
            "p".repeat(10_000),
            "m".repeat(1_000_000),
        )];
        let found = Found {
            enforced: &long,
            audited: None,
            warned: None,
        };
        let (_, bytes) = evaluated(
            "u",
            &"n".repeat(100_000),
            Some("pods"),
            &restricted(),
            &found,
            Limits { per_rule: 10 },
        );
        assert!(bytes.len() < 4 * 1024, "{} bytes", bytes.len());
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap();
    }
}
