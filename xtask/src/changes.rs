//! What changed between two fragments, in a maintainer's terms.
//!
//! A structural diff of the two JSON trees, with each difference named by what it means for the
//! client: an operation, a parameter, a schema field, or a constraint on one of those.

use serde_json::{Map, Value};

/// Human-readable lines, one per difference, in document order. Empty when equal.
pub fn summarize(old: &Value, new: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    diff(
        &mut Vec::new(),
        &normalize(old),
        &normalize(new),
        &mut diffs,
    );
    diffs.iter().map(describe).collect()
}

enum Diff {
    Added(Vec<String>, Value),
    Removed(Vec<String>, Value),
    Changed(Vec<String>, Value, Value),
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
