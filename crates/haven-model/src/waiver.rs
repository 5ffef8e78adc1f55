//! Waiver files: one format, and one reader, for `haven app check --waivers` and
//! `haven check --waivers`.
//!
//! ```yaml
//! apiVersion: haven.commonground.nl/v1alpha1
//! kind: WaiverList
//! waivers:
//! - rule: haven.scalable        # app check: a rule id or a pattern (pss.*); haven check: a check name
//!   kind: Deployment            # app check only: kind, namespace, name (pattern), container
//!   name: meldingen-beat
//!   reason: Celery beat must run as a singleton
//!   expires: 2027-06-30         # optional for app check, required for haven check
//! ```
//!
//! Why one format: the two commands used to read two (`WaiverList` with `rule:` and selectors;
//! `CheckWaiverList` with `check:` and a required expiry), with two parsers that disagreed on
//! what an error looked like. A waiver is the same idea in both: *this* finding or check is an
//! accepted exception, for *this* reason, until *then*. What differs is only what the names
//! mean and what may be selected, so each command passes a [`WaiverPolicy`] and everything else
//! (the envelope, reason, dates, patterns, unknown keys, positions, the one-document rule, the
//! match-everything guard) is decided here once. Old `CheckWaiverList` files are still read,
//! with a deprecation note saying how to rewrite them.
//!
//! A waiver that matches everything (`rule: "*"` and no selector) would turn the check off
//! while every report still looked reviewed; it is refused unless it says `all: true`, and the
//! reports flag every result such a waiver accepts.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::{InputError, InputErrorKind};
use crate::load::{Document, schema_of, single_document};

/// The `apiVersion` group of haven's own files.
pub const API_GROUP: &str = "haven.commonground.nl";
/// The `apiVersion` waiver files are written with.
pub const API_VERSION: &str = "haven.commonground.nl/v1alpha1";
/// The `kind` of a waiver file.
pub const KIND: &str = "WaiverList";
/// The `kind` of `haven check`'s old waiver files, still read (with a deprecation note).
pub const DEPRECATED_CHECK_KIND: &str = "CheckWaiverList";

/// What one command accepts in a waiver file.
#[derive(Debug, Clone, Copy)]
pub struct WaiverPolicy<'a> {
    /// Every id the command can waive: a `rule` must be one, or a pattern matching one.
    pub ids: &'a [&'a str],
    /// What an id is called in messages: `rule`, `check`.
    pub noun: &'a str,
    /// Where the user finds the ids, for the unknown-id message: `see `haven rules``.
    pub listed_by: &'a str,
    /// Whether entries may select objects (`kind`, `namespace`, `name`, `container`).
    pub selectors: bool,
    /// Whether every entry must say when it expires.
    pub expiry_required: bool,
}

/// One accepted exception.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waiver {
    /// A rule id or check name, or a pattern with `*` (`pss.*`).
    pub rule: String,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    /// An object name, or a pattern with `*` (`*-beat`).
    pub name: Option<String>,
    pub container: Option<String>,
    pub reason: String,
    /// The last day the waiver applies.
    pub expires: Option<Date>,
    /// It matches every finding of every object (`all: true` in the file): reports flag it.
    pub all: bool,
    /// 1-based line of the entry in its file.
    pub line: u32,
}

impl Waiver {
    /// Whether the waiver no longer applies on `today`.
    pub fn expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|d| d < today)
    }

    /// The expiry as written in files and reports (`YYYY-MM-DD`).
    pub fn expires_text(&self) -> Option<String> {
        self.expires.map(|d| d.to_string())
    }
}

/// A parsed waiver file.
#[derive(Debug, Clone, Default)]
pub struct WaiverList {
    /// The file as named in errors and reports.
    pub file: String,
    pub waivers: Vec<Waiver>,
    /// Deprecations to show the user (the file still works).
    pub notes: Vec<String>,
}

/// The file as written. Every field is optional to serde so that the checks below can say
/// what is missing with a line; the schema still rejects every key not listed here.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileShape {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    waivers: Vec<EntryShape>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EntryShape {
    #[serde(default)]
    rule: Option<String>,
    /// `haven check`'s old name for `rule`.
    #[serde(default)]
    check: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    container: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    all: bool,
}

impl WaiverList {
    /// Reads a waiver file; every problem is an error naming the file, line and field. A file
    /// without any document waives nothing.
    pub fn parse(
        file: &str,
        text: &str,
        policy: &WaiverPolicy<'_>,
    ) -> Result<Self, Vec<InputError>> {
        let mut out = WaiverList {
            file: file.to_owned(),
            ..Default::default()
        };
        let Some(doc) = single_document(file, text).map_err(|e| vec![e])? else {
            return Ok(out);
        };
        doc.expect_mapping().map_err(|e| vec![e])?;
        let unknown = doc.unknown_keys(&schema_of::<FileShape>());
        if !unknown.is_empty() {
            return Err(unknown);
        }
        let shape: FileShape = doc.deserialize(&doc.value).map_err(|e| vec![e])?;
        let mut errors = Vec::new();
        if let Some(v) = &shape.api_version
            && v != API_VERSION
        {
            errors.push(doc.error_at(
                InputErrorKind::NotAnObject,
                "apiVersion",
                format!("expected `apiVersion: {API_VERSION}`, found `{v}`"),
            ));
        }
        let old_kind = match shape.kind.as_deref() {
            None | Some(KIND) => false,
            Some(DEPRECATED_CHECK_KIND) => true,
            Some(k) => {
                errors.push(doc.error_at(
                    InputErrorKind::NotAnObject,
                    "kind",
                    format!("expected `kind: {KIND}`, found `{k}`"),
                ));
                false
            }
        };
        let mut old_key = false;
        for (i, entry) in shape.waivers.into_iter().enumerate() {
            old_key |= entry.check.is_some();
            match read_entry(&doc, i, entry, policy) {
                Ok(w) => out.waivers.push(w),
                Err(e) => errors.extend(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if old_kind || old_key {
            out.notes.push(format!(
                "{file}: `kind: {DEPRECATED_CHECK_KIND}` and `check:` are the old waiver format of \
                 `haven check`; it is still read, but write `kind: {KIND}` and `rule:` (the one \
                 format of both `haven check` and `haven app check`)"
            ));
        }
        Ok(out)
    }
}

fn read_entry(
    doc: &Document,
    i: usize,
    entry: EntryShape,
    policy: &WaiverPolicy<'_>,
) -> Result<Waiver, Vec<InputError>> {
    let at = format!("waivers[{i}]");
    let field = |name: &str| format!("{at}.{name}");
    let err = |path: &str, message: String| doc.error_at(InputErrorKind::FieldType, path, message);
    let mut errors = Vec::new();
    let rule = match (entry.rule, entry.check) {
        (Some(r), None) => Some((r, "rule")),
        (None, Some(c)) => Some((c, "check")),
        (Some(_), Some(_)) => {
            errors.push(err(
                &field("check"),
                "`check` is the old name of `rule`: give only `rule`".to_owned(),
            ));
            None
        }
        (None, None) => {
            errors.push(err(
                &at,
                format!("a waiver needs a `rule`: the {} it waives", policy.noun),
            ));
            None
        }
    };
    if let Some((rule, key)) = &rule
        && !policy.ids.iter().any(|id| glob(rule, id))
    {
        let hint = crate::suggest::did_you_mean(rule, policy.ids)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        errors.push(err(
            &field(key),
            format!(
                "unknown {} `{rule}`{hint} ({})",
                policy.noun, policy.listed_by
            ),
        ));
    }
    let selectors = [
        ("kind", &entry.kind),
        ("namespace", &entry.namespace),
        ("name", &entry.name),
        ("container", &entry.container),
    ];
    if !policy.selectors {
        for (key, value) in &selectors {
            if value.is_some() {
                errors.push(err(
                    &field(key),
                    format!(
                        "a {} waiver waives the whole {}: `{key}` selects objects, which only \
                         `haven app check` waivers do",
                        policy.noun, policy.noun
                    ),
                ));
            }
        }
    }
    let reason = entry.reason.unwrap_or_default();
    if reason.trim().is_empty() {
        errors.push(err(
            &field("reason"),
            "a waiver needs a `reason`: why the exception is acceptable".to_owned(),
        ));
    }
    let expires = match &entry.expires {
        Some(text) => match Date::strptime("%Y-%m-%d", text.trim()) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(err(
                    &field("expires"),
                    format!("`{text}` is not a date YYYY-MM-DD ({e})"),
                ));
                None
            }
        },
        None if policy.expiry_required => {
            errors.push(err(
                &at,
                format!(
                    "a {} waiver needs `expires` (YYYY-MM-DD): the last day it applies",
                    policy.noun
                ),
            ));
            None
        }
        None => None,
    };
    if let Some((rule, _)) = &rule {
        let everything = policy.ids.iter().all(|id| glob(rule, id))
            && entry.kind.is_none()
            && entry.namespace.is_none()
            && entry.container.is_none()
            && entry
                .name
                .as_deref()
                .is_none_or(|n| n.chars().all(|c| c == '*'));
        if everything && !entry.all {
            errors.push(err(
                &at,
                format!(
                    "this waiver matches every {} of every object: it would turn the whole check \
                     off. Name the {} and objects it is about, or, if that is really meant, say \
                     `all: true` (every report then flags what it waives)",
                    policy.noun, policy.noun
                ),
            ));
        } else if !everything && entry.all {
            errors.push(err(
                &field("all"),
                "`all: true` is only for a waiver that matches everything; this one does not: \
                 remove it"
                    .to_owned(),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Waiver {
        rule: rule.map(|(r, _)| r).unwrap_or_default(),
        kind: entry.kind,
        namespace: entry.namespace,
        name: entry.name,
        container: entry.container,
        reason,
        expires,
        all: entry.all,
        line: doc.line_of(&at),
    })
}

/// `*` matches any run of characters (`pss.*`, `*-beat`, `web-*-worker`); nothing else is special.
pub fn glob(pattern: &str, value: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = value.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = parts.collect();
    let Some(last) = parts.pop() else {
        return rest.is_empty();
    };
    for part in parts {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: WaiverPolicy<'static> = WaiverPolicy {
        ids: &["pss.privileged", "pss.host-ports", "haven.scalable"],
        noun: "rule",
        listed_by: "see `haven rules`",
        selectors: true,
        expiry_required: false,
    };
    const CHECK: WaiverPolicy<'static> = WaiverPolicy {
        ids: &["hamasters", "multiaz"],
        noun: "check",
        listed_by: "known: hamasters, multiaz",
        selectors: false,
        expiry_required: true,
    };
    const HEAD: &str = "apiVersion: haven.commonground.nl/v1alpha1\nkind: WaiverList\nwaivers:\n";

    fn errors(text: &str, policy: &WaiverPolicy<'_>) -> Vec<(u32, String, String)> {
        WaiverList::parse("w.yaml", text, policy)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.line, e.field.unwrap_or_default(), e.message))
            .collect()
    }

    #[test]
    fn globs() {
        assert!(glob("pss.*", "pss.privileged"));
        assert!(glob("*-beat", "demo-worker-beat-beat"));
        assert!(glob("web-*-worker", "web-a-worker"));
        assert!(!glob("web-*-worker", "web-worker"));
        assert!(glob("exact", "exact") && !glob("exact", "exact2"));
        assert!(glob("*", "anything"));
    }

    #[test]
    fn one_format_for_both_commands() {
        let app = WaiverList::parse(
            "w.yaml",
            &format!("{HEAD}- rule: pss.*\n  kind: Pod\n  name: web-*\n  reason: legacy\n"),
            &APP,
        )
        .unwrap();
        assert_eq!(app.waivers[0].line, 4);
        assert_eq!(app.waivers[0].expires, None);
        let check = WaiverList::parse(
            "w.yaml",
            &format!("{HEAD}- rule: hamasters\n  reason: dev\n  expires: 2027-06-30\n"),
            &CHECK,
        )
        .unwrap();
        assert_eq!(
            check.waivers[0].expires,
            Some(jiff::civil::date(2027, 6, 30))
        );
        assert!(check.notes.is_empty());
        // Without apiVersion and kind, as app check waiver files could always be written.
        let bare = WaiverList::parse(
            "w.yaml",
            "waivers:\n- rule: haven.scalable\n  reason: x\n",
            &APP,
        )
        .unwrap();
        assert_eq!(bare.waivers.len(), 1);
        assert!(
            WaiverList::parse("w.yaml", "", &APP)
                .unwrap()
                .waivers
                .is_empty()
        );
    }

    #[test]
    fn old_check_waiver_lists_are_read_with_a_deprecation_note() {
        let old = WaiverList::parse(
            "w.yaml",
            "apiVersion: haven.commonground.nl/v1alpha1\nkind: CheckWaiverList\nwaivers:\n- check: hamasters\n  reason: dev\n  expires: 2027-06-30\n",
            &CHECK,
        )
        .unwrap();
        assert_eq!(old.waivers[0].rule, "hamasters");
        assert_eq!(old.notes.len(), 1);
        assert!(old.notes[0].contains("kind: WaiverList"), "{:?}", old.notes);
    }

    #[test]
    fn every_error_names_line_and_field() {
        let e = errors(
            &format!(
                "{HEAD}- rule: pss.nope\n  reason: x\n- rule: haven.scalable\n  reason: \"\"\n  expires: someday\n"
            ),
            &APP,
        );
        assert_eq!(
            e,
            [
                (
                    4,
                    "waivers[0].rule".into(),
                    "unknown rule `pss.nope` (see `haven rules`)".into()
                ),
                (
                    7,
                    "waivers[1].reason".into(),
                    "a waiver needs a `reason`: why the exception is acceptable".into()
                ),
                (8, "waivers[1].expires".into(), e[2].2.clone()),
            ]
        );
        assert!(
            e[2].2.starts_with("`someday` is not a date YYYY-MM-DD"),
            "{e:?}"
        );
        let e = errors(
            &format!("{HEAD}- rule: hamasterz\n  reason: x\n  expires: 2027-01-01\n"),
            &CHECK,
        );
        assert_eq!(
            e[0].2,
            "unknown check `hamasterz`; did you mean `hamasters`? (known: hamasters, multiaz)"
        );
        let e = errors(
            &format!("{HEAD}- rule: pss.privileged\n  reason: x\n  expire: 2027-01-01\n"),
            &APP,
        );
        assert_eq!(
            e,
            [(
                6,
                "waivers[0].expire".into(),
                "unknown field `expire`; did you mean `expires`?".into()
            )]
        );
        let e = errors(&format!("{HEAD}- rule: hamasters\n  reason: x\n"), &CHECK);
        assert!(e[0].2.contains("needs `expires`"), "{e:?}");
        let e = errors(
            &format!(
                "{HEAD}- rule: hamasters\n  namespace: x\n  reason: x\n  expires: 2027-01-01\n"
            ),
            &CHECK,
        );
        assert_eq!((e[0].0, e[0].1.as_str()), (5, "waivers[0].namespace"));
        let e = errors("apiVersion: v1\nkind: ConfigMap\n", &APP);
        assert_eq!(e.len(), 2);
        assert!(e[1].2.contains("kind: WaiverList"), "{e:?}");
    }

    #[test]
    fn a_second_document_is_an_error() {
        let e = WaiverList::parse(
            "w.yaml",
            &format!(
                "{HEAD}- rule: haven.scalable\n  reason: x\n---\n{HEAD}- rule: pss.*\n  reason: y\n"
            ),
            &APP,
        )
        .unwrap_err();
        assert_eq!((e[0].kind, e[0].line), (InputErrorKind::ExtraDocument, 7));
    }

    #[test]
    fn a_waiver_of_everything_needs_all_true() {
        for rule in ["\"*\"", "\"**\"", "\"*.*\""] {
            let e = errors(&format!("{HEAD}- rule: {rule}\n  reason: x\n"), &APP);
            assert_eq!((e[0].0, e[0].1.as_str()), (4, "waivers[0]"), "{rule}");
            assert!(e[0].2.contains("`all: true`"), "{e:?}");
        }
        // A name pattern of only stars selects nothing either.
        let e = errors(
            &format!("{HEAD}- rule: \"*\"\n  name: \"*\"\n  reason: x\n"),
            &APP,
        );
        assert!(e[0].2.contains("`all: true`"), "{e:?}");
        let ok = WaiverList::parse(
            "w.yaml",
            &format!("{HEAD}- rule: \"*\"\n  reason: throwaway demo cluster\n  all: true\n"),
            &APP,
        )
        .unwrap();
        assert!(ok.waivers[0].all);
        // A selector makes it an ordinary waiver; `all` there is a mistake.
        let ok = WaiverList::parse(
            "w.yaml",
            &format!("{HEAD}- rule: \"*\"\n  namespace: sandbox\n  reason: x\n"),
            &APP,
        )
        .unwrap();
        assert!(!ok.waivers[0].all);
        let e = errors(
            &format!("{HEAD}- rule: pss.*\n  reason: x\n  all: true\n"),
            &APP,
        );
        assert_eq!(e[0].1, "waivers[0].all");
        // The same for haven check.
        let e = errors(
            &format!("{HEAD}- rule: \"*\"\n  reason: x\n  expires: 2027-01-01\n"),
            &CHECK,
        );
        assert!(e[0].2.contains("`all: true`"), "{e:?}");
    }
}
