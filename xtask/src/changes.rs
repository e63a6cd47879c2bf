//! What changed between two fragments, in a maintainer's terms, and what each change means for
//! `balance-api`'s users.
//!
//! A structural diff of the two JSON trees, with each difference named by what it means for the
//! client (an operation, a parameter, a schema field, or a constraint on one of those) and
//! classed as breaking, additive or docs-only; the printed lines and `--report` both come from
//! here.

use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::fmt;

/// What one change means for `balance-api`'s users. Ordered: the largest class among a set of
/// changes is the set's class, and a change that could be either is given the larger one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Prose and annotations only: descriptions, summaries, examples, tags, `x-` extensions.
    Docs,
    /// Something new, or a value accepted more widely; what users rely on still holds.
    Additive,
    /// Something users may rely on went away, narrowed, moved, or is now demanded of them.
    Breaking,
}

impl Class {
    /// The semver release a change of this class requires: `major`, `minor` or `patch`.
    pub fn semver(self) -> &'static str {
        match self {
            Class::Docs => "patch",
            Class::Additive => "minor",
            Class::Breaking => "major",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::Docs => "docs",
            Class::Additive => "additive",
            Class::Breaking => "breaking",
        })
    }
}

/// Whether a change added, removed or replaced a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A key the old fragment lacks.
    Added,
    /// A key the new fragment lacks.
    Removed,
    /// A value that differs.
    Changed,
}

/// One difference between two fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What it means for users.
    pub class: Class,
    /// Added, removed or changed.
    pub kind: Kind,
    /// The difference in a maintainer's terms, e.g. `schema field S.currency: removed (was …)`.
    pub line: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line)
    }
}

/// One change per difference, in document order. Empty when equal.
pub fn summarize(old: &Value, new: &Value) -> Vec<Change> {
    let mut diffs = Vec::new();
    diff(
        &mut Vec::new(),
        &normalize(old),
        &normalize(new),
        &mut diffs,
    );
    diffs
        .iter()
        .map(|d| Change {
            class: classify(d),
            kind: d.kind(),
            line: describe(d),
        })
        .collect()
}

enum Diff {
    Added(Vec<String>, Value),
    Removed(Vec<String>, Value),
    Changed(Vec<String>, Value, Value),
}

impl Diff {
    fn kind(&self) -> Kind {
        match self {
            Diff::Added(..) => Kind::Added,
            Diff::Removed(..) => Kind::Removed,
            Diff::Changed(..) => Kind::Changed,
        }
    }

    /// Where the difference is, and the values before and after (`None`: absent).
    fn parts(&self) -> (&[String], Option<&Value>, Option<&Value>) {
        match self {
            Diff::Added(p, v) => (p, None, Some(v)),
            Diff::Removed(p, v) => (p, Some(v), None),
            Diff::Changed(p, a, b) => (p, Some(a), Some(b)),
        }
    }
}

fn diff(at: &mut Vec<String>, old: &Value, new: &Value, out: &mut Vec<Diff>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                at.push(k.clone());
                match b.get(k) {
                    Some(vb) => diff(at, va, vb, out),
                    None => out.push(Diff::Removed(at.clone(), va.clone())),
                }
                at.pop();
            }
            for (k, vb) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                let mut path = at.clone();
                path.push(k.clone());
                out.push(Diff::Added(path, vb.clone()));
            }
        }
        _ if old != new => out.push(Diff::Changed(at.clone(), old.clone(), new.clone())),
        _ => {}
    }
}

/// Parameter lists become maps keyed by `name (in)`, so a reorder is not reported as a change
/// and a changed parameter is named rather than numbered.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("parameters", Value::Array(params)) => (k.clone(), keyed(params)),
                    _ => (k.clone(), normalize(v)),
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

fn keyed(params: &[Value]) -> Value {
    let mut out = Map::new();
    for (i, p) in params.iter().enumerate() {
        let name = p.get("name").and_then(Value::as_str);
        let place = p.get("in").and_then(Value::as_str);
        let key = match (name, place, p.get("$ref").and_then(Value::as_str)) {
            (Some(n), Some(w), _) => format!("{n} ({w})"),
            (_, _, Some(r)) => r.to_owned(),
            _ => format!("#{i}"),
        };
        out.insert(key, normalize(p));
    }
    Value::Object(out)
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn describe(d: &Diff) -> String {
    let (path, what) = match d {
        Diff::Added(p, v) => (p, format!("added: {}", short(v))),
        Diff::Removed(p, v) => (p, format!("removed (was {})", short(v))),
        Diff::Changed(p, a, b) => (p, format!("{} -> {}", short(a), short(b))),
    };
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    let subject = match p.as_slice() {
        ["paths", route] => format!("path {route}"),
        ["paths", route, m] if METHODS.contains(m) => {
            format!("operation {} {route}", m.to_uppercase())
        }
        ["paths", route, m, "parameters", param, rest @ ..] => with_rest(
            format!("parameter {param} of {} {route}", m.to_uppercase()),
            rest,
        ),
        ["paths", route, m, rest @ ..] if METHODS.contains(m) => {
            with_rest(format!("operation {} {route}", m.to_uppercase()), rest)
        }
        [
            "components",
            "schemas",
            schema,
            "properties",
            field,
            rest @ ..,
        ] => with_rest(format!("schema field {schema}.{field}"), rest),
        ["components", "schemas", schema, rest @ ..] => with_rest(format!("schema {schema}"), rest),
        ["components", kind, name, rest @ ..] => with_rest(format!("{kind} {name}"), rest),
        _ => format!("/{}", p.join("/")),
    };
    let kind = match p.last() {
        Some(&c) if is_constraint(c) => "constraint ",
        _ => "",
    };
    format!("{kind}{subject}: {what}")
}

fn with_rest(subject: String, rest: &[&str]) -> String {
    if rest.is_empty() {
        subject
    } else {
        format!("{subject} {}", rest.join("."))
    }
}

fn is_constraint(key: &str) -> bool {
    matches!(
        key,
        "type"
            | "format"
            | "pattern"
            | "minLength"
            | "maxLength"
            | "minimum"
            | "maximum"
            | "exclusiveMinimum"
            | "exclusiveMaximum"
            | "enum"
            | "nullable"
            | "required"
            | "minItems"
            | "maxItems"
    )
}

/// One line per change: long values are cut, with the cut marked.
fn short(v: &Value) -> String {
    const MAX: usize = 80;
    let s = v.to_string();
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s,
    }
}

/// Keys holding prose or annotations: a difference at or under one is docs-only. Not `title`,
/// which code generators may name types after.
const DOCS: [&str; 7] = [
    "description",
    "summary",
    "example",
    "examples",
    "tags",
    "externalDocs",
    "info",
];

/// Keys whose children are names (routes, fields, parameters as `summarize` keys them, status
/// codes, media types, components), not OpenAPI keywords. Each of `components`' children is
/// such a map too.
const NAMED: [&str; 14] = [
    "paths",
    "properties",
    "parameters",
    "headers",
    "responses",
    "content",
    "schemas",
    "securitySchemes",
    "examples",
    "requestBodies",
    "links",
    "callbacks",
    "encoding",
    "variables",
];

/// Keys whose value is data: every key under one is data too, never a keyword.
const DATA: [&str; 2] = ["default", "const"];

/// Constraints whose absence accepts anything: removing one widens, adding or changing one
/// narrows (a changed type or pattern may accept values the old one did not, but it refuses
/// some it accepted, and that is what breaks).
const RESTRICTIONS: [&str; 8] = [
    "type",
    "format",
    "pattern",
    "multipleOf",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "uniqueItems",
    "not",
];

/// The class of one difference. Prose anywhere on the path makes it docs; authentication
/// anywhere makes it breaking; otherwise the last keyword decides, as a named entry's container
/// (a field, parameter, status code...) or as a constraint. Anything not recognised is breaking.
fn classify(d: &Diff) -> Class {
    let (path, old, new) = d.parts();
    let flags = keyword_flags(path);
    let keywords: Vec<&str> = path
        .iter()
        .zip(&flags)
        .filter(|(_, is_keyword)| **is_keyword)
        .map(|(key, _)| key.as_str())
        .collect();
    if keywords
        .iter()
        .any(|k| DOCS.contains(k) || k.starts_with("x-"))
    {
        return Class::Docs;
    }
    if keywords
        .iter()
        .any(|k| matches!(*k, "security" | "securitySchemes"))
    {
        return Class::Breaking;
    }
    match (flags.last(), keywords.last()) {
        (Some(false), Some(container)) => entry(container, old, new),
        (Some(true), Some(key)) => keyword(key, old, new),
        _ => Class::Breaking,
    }
}

/// For each key of `path`, whether it is an OpenAPI keyword rather than a name: a response
/// field called `description` is a field, not prose.
fn keyword_flags(path: &[String]) -> Vec<bool> {
    let mut name_next = false;
    let mut in_data = false;
    path.iter()
        .enumerate()
        .map(|(i, key)| {
            if in_data || std::mem::take(&mut name_next) {
                return false;
            }
            in_data = DATA.contains(&key.as_str());
            name_next = NAMED.contains(&key.as_str()) || (i == 1 && path[0] == "components");
            true
        })
        .collect()
}

/// A named entry of `container` (a field, a parameter, a response, a component...) appeared,
/// went away, or was replaced by something else.
fn entry(container: &str, old: Option<&Value>, new: Option<&Value>) -> Class {
    match (old, new) {
        _ if DATA.contains(&container) => Class::Breaking,
        (None, Some(added)) if container == "parameters" => {
            if added.get("required") == Some(&Value::Bool(true)) {
                Class::Breaking
            } else {
                Class::Additive
            }
        }
        (None, Some(_)) => Class::Additive,
        _ => Class::Breaking,
    }
}

/// The value of keyword `key` changed, appeared or went away (`None`: absent).
fn keyword(key: &str, old: Option<&Value>, new: Option<&Value>) -> Class {
    let flag = |v: Option<&Value>| v.and_then(Value::as_bool).unwrap_or(false);
    match key {
        "nullable" => widening(flag(new).cmp(&flag(old))),
        // A schema's list may be a request's (growing it breaks callers) or a response's
        // (shrinking it does); which one is not known here.
        "required" if old.is_some_and(Value::is_array) || new.is_some_and(Value::is_array) => {
            Class::Breaking
        }
        "required" => widening(flag(old).cmp(&flag(new))),
        "maxLength" | "maxItems" | "maxProperties" | "maximum" => {
            bound(new, old, f64::INFINITY).map_or(Class::Breaking, widening)
        }
        "minLength" | "minItems" | "minProperties" | "minimum" => {
            bound(old, new, f64::NEG_INFINITY).map_or(Class::Breaking, widening)
        }
        "enum" => enumeration(old, new),
        _ if RESTRICTIONS.contains(&key) && new.is_none() => Class::Additive,
        _ if METHODS.contains(&key) && old.is_none() => Class::Additive,
        _ if NAMED.contains(&key) && old.is_none() => new
            .and_then(Value::as_object)
            .and_then(|m| m.values().map(|v| entry(key, None, Some(v))).max())
            .unwrap_or(Class::Additive),
        _ => Class::Breaking,
    }
}

/// `Greater`: the new value accepts more than the old one. `Equal` (e.g. `nullable: false`
/// spelled out) changes nothing users see, so it counts as docs.
fn widening(accepts_more: Ordering) -> Class {
    match accepts_more {
        Ordering::Greater => Class::Additive,
        Ordering::Less => Class::Breaking,
        Ordering::Equal => Class::Docs,
    }
}

/// Compares two numeric bounds, an absent one standing for `absent`; `None` if either is
/// present but not a number.
fn bound(a: Option<&Value>, b: Option<&Value>, absent: f64) -> Option<Ordering> {
    let number = |v: Option<&Value>| v.map_or(Some(absent), Value::as_f64);
    number(a)?.partial_cmp(&number(b)?)
}

/// An absent `enum` allows every value; a new list holding every old value widens.
fn enumeration(old: Option<&Value>, new: Option<&Value>) -> Class {
    let Some(old) = old else {
        return Class::Breaking;
    };
    let Some(new) = new else {
        return Class::Additive;
    };
    match (old.as_array(), new.as_array()) {
        (Some(a), Some(b)) if a.iter().all(|v| b.contains(v)) => {
            if b.iter().all(|v| a.contains(v)) {
                Class::Docs // the same values, reordered
            } else {
                Class::Additive
            }
        }
        _ => Class::Breaking,
    }
}
