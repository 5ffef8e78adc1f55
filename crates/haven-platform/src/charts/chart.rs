//! A Helm chart as `validate --charts` needs to know it without running Helm: its metadata, its
//! dependencies (and which of them are in the directory), its default values, its
//! `values.schema.json`, and which value paths its templates read.
//!
//! Built from the chart's files as text ([`Chart::from_files`]); reading them from disk is
//! [`crate::fs::read_chart_files`]'s job.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::error::ChartFileError;

/// One chart (or subchart), read.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// Where the chart is, as shown to users: `charts/loki`, `charts/kyverno/charts/crds`.
    pub dir: String,
    pub name: String,
    pub version: String,
    /// `application` or `library`.
    pub chart_type: String,
    pub dependencies: Vec<Dependency>,
    /// `values.yaml`, an empty map when the chart has none.
    pub values: Value,
    pub schema: Option<Value>,
    /// Value paths the templates (and `tpl` strings in `values.yaml`) read: see [`Reads`].
    pub reads: Reads,
    /// Subcharts unpacked under `charts/`.
    pub subcharts: Vec<Chart>,
    /// Subchart archives under `charts/` (`name-version.tgz`): Helm loads them, haven does not
    /// look inside (their values are not checked for unread keys).
    pub archives: Vec<String>,
    /// Files of the chart that could not be read as what they should be (`Chart.yaml` that is
    /// not YAML, a schema that is not JSON): reported, and the chart is not verified.
    pub problems: Vec<String>,
}

/// One entry of `Chart.yaml`'s `dependencies`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub alias: Option<String>,
    /// Comma-separated value paths; the first that holds a boolean decides.
    pub condition: Option<String>,
    pub tags: Vec<String>,
}

impl Dependency {
    /// The key of the subchart's values in its parent's values: the alias, else the name.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

/// The value paths a chart's templates read.
///
/// Each `.Values.a.b` is the path `[a, b]`; a path reads everything under it (templates pass
/// whole maps to `toYaml`, `with` and `range`). `index .Values "a" "b"` is read the same way.
/// A bare `.Values` (handed whole to a helper) means every key may be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    pub paths: BTreeSet<Vec<String>>,
    pub everything: bool,
}

impl Reads {
    /// Whether a read covers `path` (the path itself or one of its parents is read).
    pub fn covers(&self, path: &[String]) -> bool {
        self.everything || (0..=path.len()).any(|n| self.paths.contains(&path[..n]))
    }

    /// Whether some read goes below `path` (`path` is a structured map the chart reads key by
    /// key).
    pub fn below(&self, path: &[String]) -> bool {
        self.paths
            .range(path.to_vec()..)
            .take_while(|p| p.starts_with(path))
            .any(|p| p.len() > path.len())
    }

    /// The keys read directly under `path`, for "did you mean".
    pub fn children(&self, path: &[String]) -> BTreeSet<String> {
        self.paths
            .range(path.to_vec()..)
            .take_while(|p| p.starts_with(path))
            .filter_map(|p| p.get(path.len()).cloned())
            .collect()
    }
}

/// Reads a chart from its files: relative path (`Chart.yaml`, `templates/x.yaml`,
/// `charts/sub/Chart.yaml`, `charts/sub-1.0.0.tgz`) → text (archives may map to empty text).
/// `dir` is how the chart is named in messages.
pub fn from_files(dir: &str, files: &BTreeMap<String, String>) -> Chart {
    let mut chart = Chart {
        dir: dir.to_owned(),
        values: Value::Object(Map::new()),
        chart_type: "application".to_owned(),
        ..Chart::default()
    };
    match files.get("Chart.yaml") {
        None => chart
            .problems
            .push(format!("{dir}: no Chart.yaml (not a Helm chart)")),
        Some(text) => read_metadata(&mut chart, text),
    }
    if let Some(text) = files.get("values.yaml").or_else(|| files.get("values.yml")) {
        match yaml_map(&format!("{dir}/values.yaml"), text) {
            Ok(v) => chart.values = v,
            Err(e) => chart.problems.push(e.to_string()),
        }
        scan_reads(text, &mut chart.reads);
    }
    if let Some(text) = files.get("values.schema.json") {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => chart.schema = Some(v),
            Err(e) => chart
                .problems
                .push(format!("{dir}/values.schema.json: not JSON: {e}")),
        }
    }
    let mut subfiles: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for (path, text) in files {
        if path.starts_with("templates/") {
            scan_reads(text, &mut chart.reads);
        } else if let Some(rest) = path.strip_prefix("charts/") {
            match rest.split_once('/') {
                Some((sub, inner)) => {
                    subfiles
                        .entry(sub)
                        .or_default()
                        .insert(inner.to_owned(), text.clone());
                }
                None if rest.ends_with(".tgz") => chart.archives.push(rest.to_owned()),
                None => {}
            }
        }
    }
    for (sub, files) in subfiles {
        if files.contains_key("Chart.yaml") {
            chart
                .subcharts
                .push(from_files(&format!("{dir}/charts/{sub}"), &files));
        }
    }
    chart
}

fn read_metadata(chart: &mut Chart, text: &str) {
    let file = format!("{}/Chart.yaml", chart.dir);
    let meta = match yaml_map(&file, text) {
        Ok(v) => v,
        Err(e) => {
            chart.problems.push(e.to_string());
            return;
        }
    };
    let s = |k: &str| meta.get(k).map(scalar).unwrap_or_default();
    chart.name = s("name");
    chart.version = s("version");
    if let Some(t) = meta.get("type").map(scalar).filter(|t| !t.is_empty()) {
        chart.chart_type = t;
    }
    if chart.name.is_empty() {
        chart.problems.push(format!("{file}: no `name`"));
    }
    for d in meta
        .get("dependencies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let get = |k: &str| d.get(k).map(scalar).filter(|v| !v.is_empty());
        chart.dependencies.push(Dependency {
            name: get("name").unwrap_or_default(),
            version: get("version").unwrap_or_default(),
            repository: get("repository").unwrap_or_default(),
            alias: get("alias"),
            condition: get("condition"),
            tags: d
                .get("tags")
                .and_then(Value::as_array)
                .map(|t| t.iter().map(scalar).collect())
                .unwrap_or_default(),
        });
    }
}

/// A scalar as the string Helm would see (`version: 1.0` is the string "1.0" in Chart.yaml).
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One YAML document that must be a mapping (or empty).
fn yaml_map(file: &str, text: &str) -> Result<Value, ChartFileError> {
    let mut docs = haven_model::parse_stream(file, text);
    if docs.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match docs.remove(0) {
        Ok(d) if d.value.is_object() => Ok(d.value),
        Ok(d) if d.value.is_null() => Ok(Value::Object(Map::new())),
        Ok(_) => Err(ChartFileError::NotAMapping {
            file: file.to_owned(),
        }),
        Err(e) => Err(ChartFileError::Yaml(e)),
    }
}

impl Chart {
    /// The dependency whose subchart is `sub` (matched by chart name, as Helm does).
    pub fn subchart(&self, dep: &Dependency) -> Option<&Chart> {
        self.subcharts.iter().find(|s| s.name == dep.name)
    }

    /// Whether a dependency is in `charts/` (unpacked, or as an archive named after it).
    pub fn has_dependency(&self, dep: &Dependency) -> bool {
        self.subchart(dep).is_some()
            || self.archives.iter().any(|a| {
                a.strip_prefix(&dep.name)
                    .and_then(|r| r.strip_prefix('-'))
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit() || c == 'v'))
            })
    }

    /// Dependencies missing from `charts/`, at any depth, as `(chart, dependency)`: Helm refuses
    /// to render a chart with any of them missing, enabled or not.
    pub fn missing_dependencies(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for d in &self.dependencies {
            if !self.has_dependency(d) {
                out.push((self.name.clone(), d.name.clone()));
            }
        }
        for s in &self.subcharts {
            out.extend(s.missing_dependencies());
        }
        out
    }

    /// Every problem of this chart and its subcharts.
    pub fn all_problems(&self) -> Vec<String> {
        let mut out = self.problems.clone();
        for s in &self.subcharts {
            out.extend(s.all_problems());
        }
        out
    }

    /// The values Helm renders with: the chart's defaults coalesced under `user` (Helm's
    /// `CoalesceValues`: user values win, maps merge, a user `null` removes the default), then
    /// each enabled subchart's defaults under its key, with the parent's `global` copied down.
    pub fn coalesce(&self, user: &Value) -> Value {
        let mut v = user.clone();
        if !v.is_object() {
            v = Value::Object(Map::new());
        }
        coalesce_tables(&mut v, &self.values);
        remove_nulls(&mut v);
        for (dep, sub) in self.enabled_subcharts(&v) {
            let key = dep.key().to_owned();
            let mut scoped = v.get(&key).cloned().unwrap_or(Value::Object(Map::new()));
            if !scoped.is_object() {
                scoped = Value::Object(Map::new());
            }
            if let Some(g) = v.get("global").cloned() {
                let dest = scoped
                    .as_object_mut()
                    .map(|m| m.entry("global").or_insert(Value::Object(Map::new())));
                if let Some(dest) = dest {
                    if !dest.is_object() {
                        *dest = Value::Object(Map::new());
                    }
                    merge_over(dest, &g);
                }
            }
            let scoped = sub.coalesce(&scoped);
            if let Some(m) = v.as_object_mut() {
                m.insert(key, scoped);
            }
        }
        v
    }

    /// The subcharts Helm keeps for these (coalesced) values: a dependency's `condition` (the
    /// first of its comma-separated paths that holds a boolean) decides, else its `tags` (any
    /// true tag enables, all false disables), else it is enabled. Only unpacked subcharts are
    /// returned.
    pub fn enabled_subcharts<'c>(&'c self, values: &Value) -> Vec<(&'c Dependency, &'c Chart)> {
        self.dependencies
            .iter()
            .filter(|d| dependency_enabled(d, values))
            .filter_map(|d| self.subchart(d).map(|s| (d, s)))
            .collect()
    }
}

/// Whether Helm's `ProcessDependencies` keeps a dependency for these values.
pub fn dependency_enabled(dep: &Dependency, values: &Value) -> bool {
    if let Some(cond) = &dep.condition {
        for path in cond.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut v = values;
            let mut found = true;
            for k in path.split('.') {
                match v.get(k) {
                    Some(next) => v = next,
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if found && let Value::Bool(b) = v {
                return *b;
            }
        }
    }
    if !dep.tags.is_empty() {
        let tags: Vec<Option<bool>> = dep
            .tags
            .iter()
            .map(|t| {
                values
                    .get("tags")
                    .and_then(|m| m.get(t))
                    .and_then(Value::as_bool)
            })
            .collect();
        if tags.contains(&Some(true)) {
            return true;
        }
        if tags.iter().all(|t| *t == Some(false)) {
            return false;
        }
    }
    true
}

/// Helm's `coalesceTablesFullKey` for a chart's defaults: keys the user did not set take the
/// default; maps on both sides merge; a user `null` stays (and later removes the key).
fn coalesce_tables(dst: &mut Value, defaults: &Value) {
    let (Value::Object(d), Value::Object(s)) = (dst, defaults) else {
        return;
    };
    for (k, dv) in s {
        match d.get_mut(k) {
            None => {
                d.insert(k.clone(), dv.clone());
            }
            Some(Value::Null) => {}
            Some(uv) => {
                if uv.is_object() && dv.is_object() {
                    coalesce_tables(uv, dv);
                }
            }
        }
    }
}

/// Drops keys whose value is `null` (a user's way to unset a default).
fn remove_nulls(v: &mut Value) {
    if let Value::Object(m) = v {
        m.retain(|_, v| !v.is_null());
        m.values_mut().for_each(remove_nulls);
    }
}

/// The parent's `global` over the subchart's: the parent wins, maps merge.
fn merge_over(dst: &mut Value, src: &Value) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                match d.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        merge_over(existing, v);
                    }
                    _ => {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (d, s) => *d = s.clone(),
    }
}

/// Finds every `.Values` read in a template's text (see [`Reads`]).
///
/// Written by hand: this is not a Go template parser (no crate reads Go templates), only a scan
/// for the forms that name value paths, which is what the unread-key check needs: `.Values.a.b`
/// (also after `$` or `$root`), `($.Values).a`, and `index`/`get`/`hasKey`/`set`/`unset` with
/// string literals after `.Values`. Reading more than the chart reads would only hide typos;
/// reading less would report keys that are read, so anything this scan cannot follow (a bare
/// `.Values` handed to a helper or a variable) counts as reading every key.
pub fn scan_reads(text: &str, reads: &mut Reads) {
    const NEEDLE: &str = ".Values";
    let text = strip_template_comments(text);
    let text = text.as_str();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find(NEEDLE) {
        let start = from + i;
        let mut pos = start + NEEDLE.len();
        from = pos;
        // `.ValuesFoo` is another name.
        if bytes
            .get(pos)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            continue;
        }
        // `($.Values).a`: the parenthesised values, then a selector.
        let paren = text[..start]
            .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$')
            .ends_with('(');
        if paren && bytes.get(pos) == Some(&b')') && bytes.get(pos + 1) == Some(&b'.') {
            pos += 1;
        }
        // `$x.Values`, `$.Values` and `.Values` are all the root's values.
        let mut path = Vec::new();
        while bytes.get(pos) == Some(&b'.') {
            let ident: String = text[pos + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if ident.is_empty() {
                break;
            }
            pos += 1 + ident.len();
            path.push(ident);
        }
        // `index .Values "a" "b"`, `get .Values.a "b"`, `hasKey .Values "a"`: string
        // literals after.
        let before = text[..start]
            .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_')
            .trim_end_matches(['$', '('])
            .trim_end();
        let takes_keys = ["index", "get", "hasKey", "set", "unset"].iter().any(|f| {
            before.ends_with(f)
                && !before[..before.len() - f.len()]
                    .ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        });
        if takes_keys {
            let mut rest = &text[pos..];
            loop {
                let trimmed = rest.trim_start_matches([' ', '\t']);
                let Some(lit) = trimmed.strip_prefix('"') else {
                    break;
                };
                let Some(end) = lit.find('"') else { break };
                path.push(lit[..end].to_owned());
                rest = &lit[end + 1..];
            }
        }
        if path.is_empty() {
            // A bare `.Values` in a YAML comment does no harm; elsewhere it hands everything
            // over.
            let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
            if !text[line_start..start].trim_start().starts_with('#') {
                reads.everything = true;
            }
            continue;
        }
        reads.paths.insert(path);
    }
}

/// The text without Go template comments (`{{/* ... */}}`, `{{- /* ... */ -}}`), which may
/// mention `.Values` in prose.
fn strip_template_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("/*") {
        let before = rest[..open].trim_end_matches([' ', '-']);
        if !before.ends_with("{{") {
            out.push_str(&rest[..open + 2]);
            rest = &rest[open + 2..];
            continue;
        }
        out.push_str(&rest[..open]);
        match rest[open..].find("*/") {
            Some(close) => rest = &rest[open + close + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reads(text: &str) -> Reads {
        let mut r = Reads::default();
        scan_reads(text, &mut r);
        r
    }

    fn p(s: &str) -> Vec<String> {
        s.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn scans_value_paths_index_forms_and_bare_values() {
        let r = reads(
            "{{ .Values.a.b }} {{- with $.Values.server }}{{ toYaml $root.Values.c_d | nindent 4 }}\n\
             {{ index .Values \"e\" \"f-g\" }} {{ (index .Values.h \"i\") }} {{ .ValuesX }}",
        );
        let got: Vec<String> = r.paths.iter().map(|p| p.join(".")).collect();
        assert_eq!(got, ["a.b", "c_d", "e.f-g", "h.i", "server"]);
        assert!(!r.everything);
        assert!(r.covers(&p("server.ha.enabled")));
        assert!(r.covers(&p("a.b")));
        assert!(!r.covers(&p("a")));
        assert!(r.below(&p("a")));
        assert!(!r.covers(&p("a.c")));
        assert_eq!(r.children(&p("a")), BTreeSet::from(["b".to_owned()]));
        assert!(reads("{{ include \"x\" .Values }}").everything);
        assert!(reads("{{- $values := .Values -}}").everything);
        assert!(!reads("# uses .Values here\n").everything);
        assert!(!reads("{{/* all of it (as .Values)\n more */}}").everything);
        let r = reads(
            "{{ (get .Values \"grafana.ini\").paths.data }} {{ if hasKey .Values \"nodePort\" }}\n\
             {{- with (coalesce ($.Values).profile ($.Values.global).profile) }} {{ $x := set $.Values \"_o\" 1 }}",
        );
        let got: Vec<String> = r.paths.iter().map(|p| p.join(".")).collect();
        assert_eq!(got, ["_o", "global", "grafana.ini", "nodePort", "profile"]);
        assert!(!r.everything);
    }

    #[test]
    fn coalesces_as_helm_with_subcharts_and_globals() {
        let mut files = BTreeMap::new();
        files.insert(
            "Chart.yaml".to_owned(),
            "name: top\nversion: 1.0.0\ndependencies:\n- name: sub\n  version: 2.x\n  alias: s\n  condition: s.enabled\n- name: extra\n  version: 1\n  condition: extra.enabled\n".to_owned(),
        );
        files.insert(
            "values.yaml".to_owned(),
            "a: 1\nm: {x: 1, w: 2}\nglobal: {g: top}\nextra: {enabled: false}\n".to_owned(),
        );
        files.insert(
            "charts/sub/Chart.yaml".to_owned(),
            "name: sub\nversion: 2.0.0\n".to_owned(),
        );
        files.insert(
            "charts/sub/values.yaml".to_owned(),
            "k: default\nglobal: {g: sub, h: sub}\n".to_owned(),
        );
        files.insert(
            "charts/sub/templates/x.yaml".to_owned(),
            "{{ .Values.k }}".to_owned(),
        );
        let c = from_files("charts/top", &files);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.subcharts[0].reads.paths.len(), 1);
        assert_eq!(
            c.missing_dependencies(),
            [("top".to_owned(), "extra".to_owned())]
        );
        let v = c.coalesce(&json!({"m": {"x": null, "z": 3}, "s": {"k": "mine"}}));
        assert_eq!(v["a"], 1);
        assert_eq!(v["m"], json!({"w": 2, "z": 3}));
        assert_eq!(v["s"]["k"], "mine");
        assert_eq!(v["s"]["global"], json!({"g": "top", "h": "sub"}));
        let deps: Vec<&str> = c
            .enabled_subcharts(&v)
            .iter()
            .map(|(d, _)| d.key())
            .collect();
        assert_eq!(deps, ["s"]);
        assert!(!dependency_enabled(
            &c.dependencies[0],
            &json!({"s": {"enabled": false}})
        ));
    }
}
