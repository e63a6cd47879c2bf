//! Cutting the Balance fragment out of the full upstream document.
//!
//! Everything copied is copied verbatim: the path item, every component it reaches through
//! `$ref` (transitively), the security schemes it names, and the tags it uses. Nothing is
//! rewritten, so the generated client sees exactly what Twilio documents.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Builds the fragment for `path` from the full document `doc`.
///
/// Fails when `doc` is not OpenAPI 3.0.x (progenitor reads 3.0 only), when `path` is absent,
/// or when a `$ref` reached from it points nowhere.
pub fn fragment(doc: &Value, path: &str) -> Result<Value> {
    let root = doc
        .as_object()
        .context("the document is not a JSON object")?;
    check_version(root)?;
    let item = root
        .get("paths")
        .and_then(|p| p.get(path))
        .with_context(|| format!("the document has no path {path}"))?;

    let mut wanted = Wanted::default();
    collect_refs(item, doc, &mut wanted)?;
    collect_security(item.get("security"), &mut wanted);
    for op in item.as_object().into_iter().flat_map(|m| m.values()) {
        collect_security(op.get("security"), &mut wanted);
        collect_tags(op.get("tags"), &mut wanted);
    }
    collect_security(root.get("security"), &mut wanted);

    let mut out = Map::new();
    for key in ["openapi", "info", "servers", "security"] {
        if let Some(v) = root.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    if let Some(tags) = used_tags(root.get("tags"), &wanted.tags) {
        out.insert("tags".to_owned(), tags);
    }
    let mut paths = Map::new();
    paths.insert(path.to_owned(), item.clone());
    out.insert("paths".to_owned(), Value::Object(paths));
    let components = used_components(root.get("components"), &wanted)?;
    if !components.is_empty() {
        out.insert("components".to_owned(), Value::Object(components));
    }
    Ok(Value::Object(out))
}

fn check_version(root: &Map<String, Value>) -> Result<()> {
    match root.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => Ok(()),
        Some(v) => bail!("the document is OpenAPI {v}; progenitor reads OpenAPI 3.0.x only"),
        None => bail!("the document has no \"openapi\" version field; is it an OpenAPI document?"),
    }
}

/// Component names reached from the path item, per component kind, plus tags.
#[derive(Default)]
struct Wanted {
    /// `(kind, name)`, e.g. `("schemas", "api.v2010.account.balance")`.
    components: BTreeSet<(String, String)>,
    tags: BTreeSet<String>,
}

/// Walks `node` and every component reachable from it through local `$ref`s, each component
/// once; the visited set makes cycles terminate.
///
/// An explicit stack rather than recursion: the input is someone else's document, and a long
/// `$ref` chain (or a deeply nested value built in memory) must not overflow the call stack.
fn collect_refs(node: &Value, doc: &Value, wanted: &mut Wanted) -> Result<()> {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match node {
            Value::Object(map) => {
                // Pushed in reverse, with a `$ref`'s target on top, so nodes are visited in the
                // same order as a recursive walk and the first error reported is the same one.
                stack.extend(map.values().rev());
                if let Some(r) = map.get("$ref").and_then(Value::as_str)
                    && let Some(target) = follow_ref(r, doc, wanted)?
                {
                    stack.push(target);
                }
            }
            Value::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    Ok(())
}

/// Resolves `r` in `doc` and records it as wanted; its target is returned only the first time,
/// so each component is walked once.
fn follow_ref<'a>(r: &str, doc: &'a Value, wanted: &mut Wanted) -> Result<Option<&'a Value>> {
    let (kind, name) = parse_ref(r)?;
    let target = doc
        .get("components")
        .and_then(|c| c.get(&kind))
        .and_then(|k| k.get(&name))
        .ok_or_else(|| anyhow!("dangling $ref {r}: no such component"))?;
    Ok(wanted.components.insert((kind, name)).then_some(target))
}

/// Splits `#/components/{kind}/{name}`, undoing JSON-pointer escapes in the name.
fn parse_ref(r: &str) -> Result<(String, String)> {
    let rest = r
        .strip_prefix("#/components/")
        .ok_or_else(|| anyhow!("unsupported $ref {r}: only #/components/... is followed"))?;
    let (kind, name) = rest
        .split_once('/')
        .ok_or_else(|| anyhow!("malformed $ref {r}"))?;
    if name.contains('/') {
        bail!("unsupported $ref {r}: it points inside a component");
    }
    let unescape = |s: &str| s.replace("~1", "/").replace("~0", "~");
    Ok((unescape(kind), unescape(name)))
}

/// Security requirements name schemes as object keys, not `$ref`s.
fn collect_security(security: Option<&Value>, wanted: &mut Wanted) {
    let requirements = security.and_then(Value::as_array).into_iter().flatten();
    for scheme in requirements
        .filter_map(Value::as_object)
        .flat_map(Map::keys)
    {
        wanted
            .components
            .insert(("securitySchemes".to_owned(), scheme.clone()));
    }
}

fn collect_tags(tags: Option<&Value>, wanted: &mut Wanted) {
    let names = tags.and_then(Value::as_array).into_iter().flatten();
    wanted
        .tags
        .extend(names.filter_map(Value::as_str).map(str::to_owned));
}

fn used_tags(all: Option<&Value>, names: &BTreeSet<String>) -> Option<Value> {
    let used: Vec<Value> = all?
        .as_array()?
        .iter()
        .filter(|t| {
            t.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| names.contains(n))
        })
        .cloned()
        .collect();
    (!used.is_empty()).then_some(Value::Array(used))
}

/// Copies the wanted components in upstream order, so output is deterministic and familiar.
fn used_components(all: Option<&Value>, wanted: &Wanted) -> Result<Map<String, Value>> {
    let empty = Map::new();
    let all = all.and_then(Value::as_object).unwrap_or(&empty);
    let mut out = Map::new();
    for (kind, entries) in all {
        let Some(entries) = entries.as_object() else {
            continue;
        };
        let picked: Map<String, Value> = entries
            .iter()
            .filter(|(name, _)| wanted.components.contains(&(kind.clone(), (*name).clone())))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        if !picked.is_empty() {
            out.insert(kind.clone(), Value::Object(picked));
        }
    }
    // A security requirement naming an undefined scheme is as broken as a dangling $ref.
    for (kind, name) in &wanted.components {
        if out.get(kind).is_none_or(|k| k.get(name).is_none()) {
            bail!("the document names {kind} {name:?} but does not define it");
        }
    }
    Ok(out)
}

/// The fragment as written to disk: pretty JSON with a final newline, byte-stable for equal input.
pub fn to_bytes(fragment: &Value) -> Vec<u8> {
    let mut out =
        serde_json::to_vec_pretty(fragment).expect("a serde_json::Value always serializes");
    out.push(b'\n');
    out
}
