//! The log line of a denial or warning, written straight to stderr.
//!
//! `tracing`'s JSON formatter spends about as much on one such line as the review of an allowed
//! Pod (a timestamp through `fmt`, every field through `serde`, the rule list through `Debug`),
//! and the webhook writes one for every denial and warning. This writes the same line (the
//! layout `tracing_subscriber::fmt().json()` prints, key for key) into one buffer and hands it
//! to stderr in one `write(2)`, when `HAVEN_LOG` lets `info` through for this module.
//!
//! Its size is bounded whatever the request: each rule violated is named once, with the number
//! of violations in `violations` (a Pod of 125,000 containers made an 8 MB line when every
//! violation was listed), and the uid and kind, which the client chooses, are cut at
//! [`MAX_FIELD`] bytes.

use std::io::Write as _;
use std::time::SystemTime;

use crate::response::escape;

/// Whether verdict lines are logged (`info` for `haven_admission::server` enabled).
pub(crate) fn verdicts_enabled() -> bool {
    tracing::enabled!(target: "haven_admission::server", tracing::Level::INFO)
}

/// A uid or kind longer than this (bytes) is cut in a log line. API servers send 36-byte
/// UUIDs and kinds of a few words.
pub(crate) const MAX_FIELD: usize = 128;

/// `{"timestamp":…,"level":"INFO","fields":{"uid":…,"kind":…,"verdict":…,"rules":[…],
/// "violations":…,"micros":…},"target":"haven_admission::server"}` and a newline, in the shape of
/// `tracing`'s JSON formatter, except that `rules` is a JSON array (tracing would write the
/// `Debug` text of the list as a string). `rules` names each violated rule once; `violations`
/// counts every violation.
pub(crate) fn verdict_line(
    now: SystemTime,
    uid: &str,
    kind: &str,
    verdict: &str,
    rules: &[&str],
    micros: u64,
) -> Vec<u8> {
    let uid = crate::review::clip(uid, MAX_FIELD);
    let kind = crate::review::clip(kind, MAX_FIELD);
    let distinct: std::collections::BTreeSet<&str> = rules.iter().copied().collect();
    let mut out = Vec::with_capacity(
        224 + uid.len() + kind.len() + distinct.iter().map(|r| r.len() + 4).sum::<usize>(),
    );
    out.extend_from_slice(b"{\"timestamp\":\"");
    timestamp(&mut out, now);
    out.extend_from_slice(b"\",\"level\":\"INFO\",\"fields\":{\"uid\":\"");
    escape(&mut out, &uid);
    out.extend_from_slice(b"\",\"kind\":\"");
    escape(&mut out, &kind);
    out.extend_from_slice(b"\",\"verdict\":\"");
    escape(&mut out, verdict);
    // A JSON array of the distinct rule ids, sorted (a real array, so that log tools can
    // filter on it). Rule ids are plain ASCII; anything else is JSON-escaped.
    out.extend_from_slice(b"\",\"rules\":[");
    for (i, rule) in distinct.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        escape(&mut out, rule);
        out.push(b'"');
    }
    out.extend_from_slice(b"],\"violations\":");
    number(&mut out, rules.len() as u64);
    out.extend_from_slice(b",\"micros\":");
    number(&mut out, micros);
    out.extend_from_slice(b"},\"target\":\"haven_admission::server\"}\n");
    out
}

/// Writes a finished line; a failure to log is not a failure to answer.
pub(crate) fn write(line: &[u8]) {
    let _ = std::io::stderr().lock().write_all(line);
}

/// RFC 3339 in UTC with microseconds (`2026-11-25T22:15:03.123456Z`), as `tracing`'s default
/// timer prints it. jiff does the calendar; the digits are written here, without `fmt`.
fn timestamp(out: &mut Vec<u8>, now: SystemTime) {
    let at = jiff::Timestamp::try_from(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let t = jiff::tz::Offset::UTC.to_datetime(at);
    digits(out, t.year().max(0) as u64, 4);
    for (sep, n, width) in [
        (b'-', t.month() as u64, 2),
        (b'-', t.day() as u64, 2),
        (b'T', t.hour() as u64, 2),
        (b':', t.minute() as u64, 2),
        (b':', t.second() as u64, 2),
        (b'.', t.subsec_nanosecond() as u64 / 1000, 6),
    ] {
        out.push(sep);
        digits(out, n, width);
    }
    out.push(b'Z');
}

/// `n` in decimal.
fn number(out: &mut Vec<u8>, n: u64) {
    let width = n.checked_ilog10().map_or(1, |l| l as usize + 1);
    digits(out, n, width);
}

/// `n` in exactly `width` decimal digits (zero-padded; `width` <= 20).
fn digits(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_are_rfc3339_with_microseconds() {
        let at = |secs: u64, micros: u32| {
            let mut out = Vec::new();
            timestamp(
                &mut out,
                UNIX_EPOCH + Duration::new(secs, micros * 1000 + 999),
            );
            String::from_utf8(out).unwrap()
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(951_782_400, 7), "2000-02-29T00:00:00.000007Z");
        assert_eq!(at(1_795_644_903, 123_456), "2026-11-25T22:15:03.123456Z");
        // Against jiff, over a spread of instants.
        for secs in (0..4_102_444_800u64).step_by(86_400 * 37 + 3_601) {
            let jiff = jiff::Timestamp::from_second(secs as i64).unwrap();
            assert_eq!(at(secs, 0), format!("{:.6}", jiff), "{secs}");
        }
    }

    #[test]
    fn verdict_lines_are_those_of_tracing_json() {
        let line = verdict_line(
            UNIX_EPOCH + Duration::from_micros(1_795_644_903_123_456),
            "u\"1",
            "Pod",
            "denied",
            &["pss.privileged", "pss.runAsNonRoot", "pss.runAsNonRoot"],
            234,
        );
        let text = String::from_utf8(line).unwrap();
        assert!(text.ends_with('\n'));
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "timestamp": "2026-11-25T22:15:03.123456Z",
                "level": "INFO",
                "fields": {
                    "uid": "u\"1",
                    "kind": "Pod",
                    "verdict": "denied",
                    "rules": ["pss.privileged", "pss.runAsNonRoot"],
                    "violations": 3,
                    "micros": 234
                },
                "target": "haven_admission::server"
            })
        );
        // Keys in tracing's order.
        assert!(text.starts_with(r#"{"timestamp":"2026-11-25T22:15:03.123456Z","level":"INFO","fields":{"uid":"u\"1","kind":"Pod","verdict":"denied","rules":["pss.privileged","pss.runAsNonRoot"],"violations":3,"micros":234},"target""#));
    }

    #[test]
    fn verdict_lines_are_bounded_whatever_the_request() {
        // 125,000 containers breaking four rules each, with a made-up uid and kind of 1 MB.
        let rules: Vec<&str> = ["pss.a", "pss.b", "pss.c", "pss.d"]
            .iter()
            .copied()
            .cycle()
            .take(500_000)
            .collect();
        let huge = "u".repeat(1 << 20);
        let line = verdict_line(UNIX_EPOCH, &huge, &huge, "denied", &rules, 1);
        assert!(line.len() < 1024, "{} bytes", line.len());
        let json: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(json["fields"]["violations"], 500_000);
        assert_eq!(
            json["fields"]["rules"],
            serde_json::json!(["pss.a", "pss.b", "pss.c", "pss.d"])
        );
        assert!(json["fields"]["uid"].as_str().unwrap().ends_with("…"));
    }
}
