//! Waivers: named checks accepted as exceptions, each with a reason and an expiry date.
//!
//! ```yaml
//! apiVersion: haven.commonground.nl/v1alpha1
//! kind: CheckWaiverList
//! waivers:
//! - check: hamasters
//!   reason: one-node development cluster, never holds production data
//!   expires: 2027-06-30
//! ```
//!
//! A waiver never hides a result: the check is shown with its real result and the waiver next to
//! it. An expired waiver waives nothing and is reported. A waiver naming an unknown check is an
//! error (a typo would otherwise silently waive nothing).

use jiff::civil::Date;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    pub check: String,
    pub reason: String,
    pub expires: Date,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawWaiver {
    check: String,
    reason: String,
    expires: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WaiverFile {
    api_version: String,
    kind: String,
    #[serde(default)]
    waivers: Vec<RawWaiver>,
}

/// Parse a waiver file. `file` names it in errors, which also give the line and field.
pub fn parse_waivers(file: &str, text: &str, known_checks: &[&str]) -> Result<Vec<Waiver>, String> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    let parsed: WaiverFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let line = inner.location().map_or(1, |l| l.line());
        // serde_yaml_ng's message repeats the path and the position we already print.
        let message = inner.to_string();
        let message = message
            .strip_prefix(&format!("{path}: "))
            .unwrap_or(&message);
        let message = message
            .rfind(" at line ")
            .map_or(message, |at| &message[..at]);
        format!("{file}:{line}: field {path}: {message}")
    })?;
    if parsed.kind != "CheckWaiverList" || !parsed.api_version.starts_with("haven.commonground.nl/")
    {
        return Err(format!(
            "{file}:1: field kind: expected haven.commonground.nl/v1alpha1 CheckWaiverList, found {} {}",
            parsed.api_version, parsed.kind
        ));
    }
    let mut out = Vec::new();
    for (i, w) in parsed.waivers.iter().enumerate() {
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .map_or(1, |n| n + 1)
        };
        if !known_checks.contains(&w.check.as_str()) {
            let line = line_of(&format!("check: {}", w.check));
            return Err(format!(
                "{file}:{line}: field waivers[{i}].check: unknown check {:?} (known: {})",
                w.check,
                known_checks.join(", ")
            ));
        }
        if w.reason.trim().is_empty() {
            return Err(format!(
                "{file}: field waivers[{i}].reason: a waiver needs a reason"
            ));
        }
        let expires = Date::strptime("%Y-%m-%d", w.expires.trim()).map_err(|e| {
            let line = line_of(&format!("expires: {}", w.expires));
            format!("{file}:{line}: field waivers[{i}].expires: expected a date YYYY-MM-DD, found {:?} ({e})", w.expires)
        })?;
        out.push(Waiver {
            check: w.check.clone(),
            reason: w.reason.clone(),
            expires,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["hamasters", "multiaz"];

    #[test]
    fn parses_a_waiver_list() {
        let w = parse_waivers(
            "w.yaml",
            "apiVersion: haven.commonground.nl/v1alpha1\nkind: CheckWaiverList\nwaivers:\n- check: hamasters\n  reason: dev\n  expires: 2027-06-30\n",
            KNOWN,
        )
        .unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].expires, jiff::civil::date(2027, 6, 30));
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let e = parse_waivers(
            "w.yaml",
            "apiVersion: haven.commonground.nl/v1alpha1\nkind: CheckWaiverList\nwaivers:\n- check: hamasterz\n  reason: dev\n  expires: 2027-06-30\n",
            KNOWN,
        )
        .unwrap_err();
        assert!(
            e.starts_with("w.yaml:4: field waivers[0].check: unknown check"),
            "{e}"
        );
        let e = parse_waivers(
            "w.yaml",
            "apiVersion: haven.commonground.nl/v1alpha1\nkind: CheckWaiverList\nwaivers:\n- check: hamasters\n  reason: dev\n  expires: someday\n",
            KNOWN,
        )
        .unwrap_err();
        assert!(
            e.contains("w.yaml:") && e.contains("waivers[0].expires"),
            "{e}"
        );
        // A missing field: the path and line are said once, not repeated by the YAML library.
        let e = parse_waivers(
            "w.yaml",
            "apiVersion: haven.commonground.nl/v1alpha1\nkind: CheckWaiverList\nwaivers:\n- reason: dev\n",
            KNOWN,
        )
        .unwrap_err();
        assert_eq!(e, "w.yaml:4: field waivers[0]: missing field `check`");
        let e = parse_waivers("w.yaml", "apiVersion: v1\nkind: ConfigMap\n", KNOWN).unwrap_err();
        assert!(e.contains("CheckWaiverList"), "{e}");
    }
}
