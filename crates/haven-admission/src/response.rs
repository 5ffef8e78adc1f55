//! The AdmissionReview response: what a verdict says, built once and serialized straight to JSON
//! bytes (keys in the byte order a `serde_json::Value` map would print them, so the wire format
//! is that of the first versions of the webhook, byte for byte).

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

/// `rule at path: message`, escaped, without the message's `said` suffix.
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
    json.text(f.path());
    json.raw(": ");
    let message = f.message();
    json.text(message.strip_suffix(said).unwrap_or(message));
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

/// Every finding as `rule at path: message`, joined by `; `, escaped.
fn summary(json: &mut Json, findings: &[impl Hit], said: &str) {
    for (i, f) in findings.iter().enumerate() {
        if i > 0 {
            json.raw("; ");
        }
        hit(json, f, said);
    }
}

/// Characters the findings take in the response, for its capacity.
fn size(findings: &[impl Hit]) -> usize {
    findings
        .iter()
        .map(|f| f.rule().len() + f.path().len() + f.message().len() + 8)
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
    is_pod: bool,
    policy: &NamespacePolicy,
    found: &Found<'_, F>,
) -> (Verdict, Vec<u8>) {
    let enforced = found.enforced;
    let audited = found.audited.unwrap_or(enforced);
    let warned: &[F] = found.warned.unwrap_or_default();
    let denied = is_pod && !enforced.is_empty();
    // Controllers are warned of every enforce violation; warn-mode violations that enforce
    // does not report are warnings for every kind.
    let enforce_warnings = if is_pod { 0 } else { enforced.len() };
    let warn_warnings = warned.iter().filter(|w| !enforced.contains(w)).count();
    let capacity = 2 * size(enforced) + size(audited) + size(warned) + name.len() + uid.len();
    let mut json = Json::new(!denied, capacity + 64 * (enforce_warnings + warn_warnings));
    // A denial whose audit checks what enforce checks says the same summary twice: escape once.
    let mut shared: Option<Vec<u8>> = None;
    if !audited.is_empty() {
        json.annotation(AUDIT_ANNOTATION);
        json.raw("would violate ");
        json.text(&policy.audit.describe());
        json.raw(": ");
        let start = json.0.len();
        summary(&mut json, audited, &said_before(&policy.audit));
        if denied && found.audited.is_none() {
            shared = Some(json.0[start..].to_vec());
        }
        json.raw("\"}");
    }
    if denied {
        status(&mut json, 403);
        json.raw("pods \\\"");
        json.text(name);
        json.raw("\\\" is forbidden: violates haven policy \\\"");
        json.text(&policy.enforce.describe());
        json.raw("\\\": ");
        match &shared {
            Some(escaped) => json.0.extend_from_slice(escaped),
            None => summary(&mut json, enforced, &said_before(&policy.enforce)),
        }
        json.raw("\"}");
        json.uid(uid);
        return (Verdict::Denied, json.finish());
    }
    json.uid(uid);
    if enforce_warnings + warn_warnings > 0 {
        json.raw(r#","warnings":["#);
        let mut first = true;
        let mut warn = |json: &mut Json, (described, said): (&str, &str), f: &F| {
            json.raw(if first { "\"" } else { ",\"" });
            first = false;
            json.raw("would violate ");
            json.text(described);
            json.raw(": ");
            hit(json, f, said);
            json.raw("\"");
        };
        if enforce_warnings > 0 {
            let (described, said) = (policy.enforce.describe(), said_before(&policy.enforce));
            for f in enforced {
                warn(&mut json, (&described, &said), f);
            }
        }
        if warn_warnings > 0 {
            let (described, said) = (policy.warn.describe(), said_before(&policy.warn));
            for f in warned.iter().filter(|w| !enforced.contains(w)) {
                warn(&mut json, (&described, &said), f);
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
}
