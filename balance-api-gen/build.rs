//! Generates the client from the Balance fragment with progenitor on every change of that file.
//!
//! `balance.json` here is a symlink to the workspace's `openapi/balance.json` (the one
//! checked-in source of truth), and `provenance.json` to the record of where that came from;
//! `cargo package` follows both, so the published crate carries the fragment it was generated
//! from. The same build makes the endpoint's Markdown reference page (`build/markdown.rs`).

#[path = "build/markdown.rs"]
mod markdown;

use serde_json::Value;
use std::path::Path;

const FRAGMENT: &str = "balance.json";
const PROVENANCE: &str = "provenance.json";
/// The operation this crate's hand-written neighbours lean on; its types get stable names.
const OPERATION_ID: &str = "FetchBalance";
const METHOD: &str = "fetch_balance";

fn main() {
    // Only the fragment drives generation; editing Rust code elsewhere must not rerun it.
    println!("cargo:rerun-if-changed={FRAGMENT}");
    println!("cargo:rerun-if-changed={PROVENANCE}");
    if let Err(reason) = generate() {
        // A build script reports by failing; name the input so the fix is obvious.
        eprintln!("error: cannot generate the client from {FRAGMENT}: {reason}");
        std::process::exit(1);
    }
}

fn generate() -> Result<(), String> {
    let text = std::fs::read_to_string(FRAGMENT).map_err(|e| e.to_string())?;
    let mut json: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    fill_missing_response_descriptions(&mut json);
    // serde_json's `preserve_order` (see Cargo.toml) keeps the document's order through the
    // Value, so progenitor sees the same document either way.
    let spec: openapiv3::OpenAPI = serde_json::from_value(json.clone())
        .map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;

    let mut settings = progenitor::GenerationSettings::default();
    settings
        // Positional: fetch_balance(&sid) reads better than a builder for a one-parameter call.
        .with_interface(progenitor::InterfaceStyle::Positional)
        // Lets users and tests publish JSON Schemas of the exact wire types.
        .with_derive("schemars::JsonSchema")
        // The client carries RequestSettings, and hooks.rs must implement ClientHooks for it: the body
        // cap is enforced in the one place every response passes through.
        .with_inner_type(tokens("crate::RequestSettings")?)
        .with_hooks(progenitor::HooksMode::Expected);
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .map_err(|e| format!("progenitor rejected it: {e}"))?;
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;

    let mut code = prettyplease::unparse(&file);
    code.push_str(&operation_aliases(&file)?);
    code.push_str(&documented_constants(&spec, &json)?);

    // The page reads the document as written: `json` has had empty response descriptions
    // filled in for openapiv3, which the page must not show.
    let written: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let provenance: Value = std::fs::read_to_string(PROVENANCE)
        .map_err(|e| format!("{PROVENANCE}: {e}"))
        .and_then(|t| {
            serde_json::from_str(&t).map_err(|e| format!("{PROVENANCE}: not JSON: {e}"))
        })?;
    let page = markdown::page(&written, OPERATION_ID, &provenance)?;

    let out_dir = std::env::var("OUT_DIR").map_err(|e| e.to_string())?;
    let out_dir = Path::new(&out_dir);
    std::fs::write(out_dir.join("endpoint.md"), page).map_err(|e| e.to_string())?;
    std::fs::write(out_dir.join("codegen.rs"), code).map_err(|e| e.to_string())
}

fn tokens(path: &str) -> Result<proc_macro2::TokenStream, String> {
    path.parse().map_err(|e| format!("{path}: {e}"))
}

/// Stable names for the types of the one operation, whatever progenitor calls them: a schema
/// moved into a shared `$ref` component renames the generated type, not these aliases.
fn operation_aliases(file: &syn::File) -> Result<String, String> {
    let method = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Impl(block) => Some(block.items.iter()),
            _ => None,
        })
        .flatten()
        .find_map(|item| match item {
            syn::ImplItem::Fn(f) if f.sig.ident == METHOD => Some(&f.sig),
            _ => None,
        })
        .ok_or(format!("progenitor generated no `{METHOD}` method"))?;
    let param = method
        .inputs
        .iter()
        .find_map(|arg| match arg {
            syn::FnArg::Typed(t) => match &*t.ty {
                syn::Type::Reference(r) => Some(&*r.elem),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .ok_or(format!("`{METHOD}` takes no parameter by reference"))?;
    // Result<ResponseValue<T>, Error<()>>: T is the first type argument nested twice.
    let body = first_type_arg(match &method.output {
        syn::ReturnType::Type(_, ty) => first_type_arg(Some(ty)),
        syn::ReturnType::Default => None,
    })
    .ok_or(format!(
        "`{METHOD}` does not return Result<ResponseValue<T>, _>"
    ))?;
    let show = |ty: &syn::Type| quote::ToTokens::to_token_stream(ty).to_string();
    Ok(format!(
        "\n/// Stable names for the types of the `{OPERATION_ID}` operation.\n\
         pub mod fetch_balance {{\n\
         #[allow(unused_imports)]\n    use super::*;\n\
         /// The `AccountSid` path parameter, validated by the spec's rule on parse.\n\
         pub type AccountSid = {};\n\
         /// The documented 200 response body.\n\
         pub type Response = {};\n}}\n",
        show(param),
        show(body)
    ))
}

fn first_type_arg(ty: Option<&syn::Type>) -> Option<&syn::Type> {
    let syn::Type::Path(path) = ty? else {
        return None;
    };
    let syn::PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// Prose is not contract: OpenAPI 3.0 makes a response's `description` required, and openapiv3
/// refuses a response without one; a fragment that drops it gets an empty one, so dropped prose
/// never stops the build. Nothing else is touched.
fn fill_missing_response_descriptions(doc: &mut Value) {
    let fill = |responses: Option<&mut Value>| {
        let responses = responses
            .and_then(Value::as_object_mut)
            .into_iter()
            .flatten();
        for (_, response) in responses {
            if let Some(response) = response.as_object_mut()
                && !response.contains_key("$ref")
            {
                response
                    .entry("description")
                    .or_insert(Value::String(String::new()));
            }
        }
    };
    let paths = doc.get_mut("paths").and_then(Value::as_object_mut);
    for item in paths.into_iter().flat_map(|paths| paths.values_mut()) {
        let operations = item
            .as_object_mut()
            .into_iter()
            .flat_map(|item| item.values_mut());
        for operation in operations {
            fill(operation.get_mut("responses"));
        }
    }
    fill(
        doc.get_mut("components")
            .and_then(|components| components.get_mut("responses")),
    );
}

/// What progenitor leaves out but the spec documents: the server (progenitor ignores
/// `servers`), the `AccountSid` parameter's schema (the generated type's JSON Schema loses its
/// pattern), the 200 response's example if it documents one, and a demo body that needs none.
///
/// Only the contract is required (the operation, its `AccountSid` parameter, the 200 response's
/// schema); examples, descriptions and summaries are prose and may come and go upstream.
fn documented_constants(spec: &openapiv3::OpenAPI, json: &Value) -> Result<String, String> {
    let (path, item) = json["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .find(|(_, item)| item["get"]["operationId"] == OPERATION_ID)
        .ok_or(format!("no GET operation {OPERATION_ID}"))?;
    // A path item's own `servers` win over the document's, as in OpenAPI.
    let server = item["servers"][0]["url"]
        .as_str()
        .or(spec.servers.first().map(|s| s.url.as_str()))
        .ok_or("the fragment lists no servers")?;
    let operation = &item["get"];
    let sid_schema = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| resolve(json, p))
        .find(|p| p["name"] == "AccountSid")
        .map(|p| resolve(json, &p["schema"]))
        .ok_or("FetchBalance has no AccountSid parameter")?;
    let media =
        resolve(json, &operation["responses"]["200"])["content"]["application/json"].clone();
    let schema = media
        .get("schema")
        .ok_or("the 200 response has no application/json schema")?;
    // Either form OpenAPI allows: `example` on the media type, or the first of its `examples`.
    let example = media
        .get("example")
        .cloned()
        .or_else(|| {
            let examples = media["examples"].as_object()?;
            Some(resolve(json, examples.values().next()?)["value"].clone())
        })
        .filter(Value::is_object);
    let (demo, source) = match &example {
        Some(example) => (
            example.clone(),
            "the example documented in Twilio's API spec",
        ),
        None => (
            made_from_schema(json, schema, 0),
            "a value made from the response schema (the spec documents no example)",
        ),
    };
    let documented = match &example {
        Some(example) => format!("Some({:?})", example.to_string()),
        None => "None".to_owned(),
    };
    Ok(format!(
        "\n/// The server the spec documents (`servers[0].url`), before any region or edge.\n\
         pub const SERVER_URL: &str = {server:?};\n\
         /// The operation's path template.\n\
         pub const PATH: &str = {path:?};\n\
         /// The JSON Schema of the `AccountSid` parameter, as the spec states it.\n\
         pub const ACCOUNT_SID_SCHEMA: &str = {:?};\n\
         /// The 200 response body the spec documents as its example (the `application/json`\n\
         /// media type's `example`, or the first of its `examples`), as JSON; `None` when the\n\
         /// spec documents none. An example is prose: upstream may drop or change it.\n\
         pub const DOCUMENTED_EXAMPLE: Option<&str> = {documented};\n\
         /// A 200 response body to serve in demos and tests, as JSON: [`DOCUMENTED_EXAMPLE`] when\n\
         /// there is one, otherwise a body made from the response schema (each field's own\n\
         /// `example`, else the shortest string its `pattern` matches, else `null` where the\n\
         /// field is nullable). [`DEMO_RESPONSE_SOURCE`] says which.\n\
         pub const DEMO_RESPONSE: &str = {:?};\n\
         /// Where [`DEMO_RESPONSE`] comes from, as a phrase for a note to the reader: \"the\n\
         /// example documented in Twilio's API spec\" or \"a value made from the response schema\n\
         /// (the spec documents no example)\".\n\
         pub const DEMO_RESPONSE_SOURCE: &str = {source:?};\n",
        sid_schema.to_string(),
        demo.to_string()
    ))
}

/// A value for `schema` made from its contract alone: its own `example`, else its first `enum`
/// value, else for a string the shortest string its `pattern` matches (or `minLength` filler),
/// else `null` where it is nullable, else its type's least value. Objects get every property.
fn made_from_schema(doc: &Value, schema: &Value, depth: usize) -> Value {
    let schema = resolve(doc, schema);
    // A schema that contains itself stops here rather than recursing forever.
    if depth > 16 {
        return Value::Null;
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(first) = schema["enum"].get(0) {
        return first.clone();
    }
    let made = |s: &Value| made_from_schema(doc, s, depth + 1);
    if let Some(properties) = schema["properties"].as_object() {
        let fields = properties.iter().map(|(name, s)| (name.clone(), made(s)));
        return Value::Object(fields.collect());
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = serde_json::Map::new();
        for part in parts.iter().map(made) {
            merged.extend(
                part.as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone())),
            );
        }
        return Value::Object(merged);
    }
    if let Some(first) = schema["oneOf"].get(0).or(schema["anyOf"].get(0)) {
        return made(first);
    }
    let nullable = schema["nullable"] == true;
    let min_length = schema["minLength"].as_u64().unwrap_or(0);
    match schema["type"].as_str() {
        Some("string") => match schema["pattern"].as_str().and_then(smallest_match) {
            Some(matched) => Value::String(matched),
            None if min_length > 0 => Value::String("x".repeat(min_length as usize)),
            None if nullable => Value::Null,
            None => Value::String(String::new()),
        },
        _ if nullable => Value::Null,
        Some("integer" | "number") => schema.get("minimum").cloned().unwrap_or(Value::from(0)),
        Some("boolean") => Value::Bool(false),
        Some("array") => {
            let count = schema["minItems"].as_u64().unwrap_or(0) as usize;
            Value::Array(vec![made(&schema["items"]); count])
        }
        Some("object") => Value::Object(serde_json::Map::new()),
        _ => Value::Null,
    }
}

/// The shortest string `pattern` matches, read off the pattern's syntax tree: a literal is
/// itself, a class its lowest ASCII letter or digit (else its first character), a repetition its
/// minimum count, an alternation its first branch, anchors and look-arounds nothing. `None` when
/// the pattern does not parse (OpenAPI patterns are ECMA-262; regex-syntax reads Rust's dialect,
/// which covers the character classes, counts and anchors Twilio's SID patterns use) or matches
/// nothing.
fn smallest_match(pattern: &str) -> Option<String> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let mut out = String::new();
    smallest(&hir, &mut out)?;
    Some(out)
}

fn smallest(hir: &regex_syntax::hir::Hir, out: &mut String) -> Option<()> {
    use regex_syntax::hir::{Class, HirKind};
    // A pattern like `a{100000}` would make a useless demo body.
    if out.len() > 4096 {
        return None;
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(literal) => out.push_str(std::str::from_utf8(&literal.0).ok()?),
        HirKind::Class(Class::Unicode(class)) => {
            let ranges = class.ranges().iter().map(|r| (r.start(), r.end()));
            out.push(first_of(ranges)?);
        }
        HirKind::Class(Class::Bytes(class)) => {
            let ranges = class.ranges().iter();
            out.push(first_of(
                ranges.map(|r| (char::from(r.start()), char::from(r.end()))),
            )?);
        }
        HirKind::Repetition(repetition) => {
            for _ in 0..repetition.min {
                smallest(&repetition.sub, out)?;
            }
        }
        HirKind::Capture(capture) => smallest(&capture.sub, out)?,
        HirKind::Concat(parts) => parts.iter().try_for_each(|part| smallest(part, out))?,
        HirKind::Alternation(branches) => smallest(branches.first()?, out)?,
    }
    Some(())
}

/// The lowest ASCII letter or digit in a class, else its first character (so `.` gives `0`,
/// not U+0000); `None` for a class that matches nothing.
fn first_of(ranges: impl Iterator<Item = (char, char)> + Clone) -> Option<char> {
    let readable = ['0'..='9', 'A'..='Z', 'a'..='z'];
    let first_readable = ranges
        .clone()
        .flat_map(|(start, end)| {
            readable.clone().into_iter().filter_map(move |r| {
                let c = start.max(*r.start());
                (c <= end.min(*r.end())).then_some(c)
            })
        })
        .min();
    first_readable.or(ranges.map(|(start, _)| start).next())
}

/// Follows local `$ref`s (`#/components/...`), a chain of them included; anything else is
/// returned as is, and a dangling reference as `null`.
fn resolve(doc: &Value, value: &Value) -> Value {
    let mut value = value.clone();
    // Bounded: a cycle of references resolves to null rather than looping.
    for _ in 0..16 {
        match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => value = doc.pointer(pointer).cloned().unwrap_or(Value::Null),
            None => return value,
        }
    }
    Value::Null
}
