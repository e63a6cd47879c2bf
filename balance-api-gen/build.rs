//! Generates the client from the Balance fragment with progenitor on every change of that file.
//!
//! `balance.json` here is a symlink to the workspace's `openapi/balance.json` (the one
//! checked-in source of truth); `cargo package` follows it, so the published crate carries the
//! fragment it was generated from.

use serde_json::Value;
use std::path::Path;

const FRAGMENT: &str = "balance.json";
/// The operation this crate's hand-written neighbours lean on; its types get stable names.
const OPERATION_ID: &str = "FetchBalance";
const METHOD: &str = "fetch_balance";

fn main() {
    // Only the fragment drives generation; editing Rust code elsewhere must not rerun it.
    println!("cargo:rerun-if-changed={FRAGMENT}");
    if let Err(reason) = generate() {
        // A build script reports by failing; name the input so the fix is obvious.
        eprintln!("error: cannot generate the client from {FRAGMENT}: {reason}");
        std::process::exit(1);
    }
}

fn generate() -> Result<(), String> {
    let text = std::fs::read_to_string(FRAGMENT).map_err(|e| e.to_string())?;
    let spec: openapiv3::OpenAPI =
        serde_json::from_str(&text).map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;

    let mut settings = progenitor::GenerationSettings::default();
    settings
        // Positional: fetch_balance(&sid) reads better than a builder for a one-parameter call.
        .with_interface(progenitor::InterfaceStyle::Positional)
        // Lets users and tests publish JSON Schemas of the exact wire types.
        .with_derive("schemars::JsonSchema")
        // The client carries Limits, and hooks.rs must implement ClientHooks for it: the body
        // cap is enforced in the one place every response passes through.
        .with_inner_type(tokens("crate::Limits")?)
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

    let out_dir = std::env::var("OUT_DIR").map_err(|e| e.to_string())?;
    std::fs::write(Path::new(&out_dir).join("codegen.rs"), code).map_err(|e| e.to_string())
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

/// What progenitor leaves out but the spec documents: the server (progenitor ignores
/// `servers`), the `AccountSid` parameter's schema (the generated type's JSON Schema loses its
/// pattern), and the operation's documented 200 example.
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
    let example =
        resolve(json, &operation["responses"]["200"])["content"]["application/json"]["examples"]
            .as_object()
            .and_then(|examples| examples.values().next())
            .map(|e| resolve(json, e)["value"].clone())
            .filter(|v| v.is_object())
            .ok_or("the 200 response documents no example")?;
    Ok(format!(
        "\n/// The server the spec documents (`servers[0].url`), before any region or edge.\n\
         pub const SERVER_URL: &str = {server:?};\n\
         /// The operation's path template.\n\
         pub const PATH: &str = {path:?};\n\
         /// The JSON Schema of the `AccountSid` parameter, as the spec states it.\n\
         pub const ACCOUNT_SID_SCHEMA: &str = {:?};\n\
         /// The 200 response body the spec documents as its example.\n\
         pub const DOCUMENTED_EXAMPLE: &str = {:?};\n",
        sid_schema.to_string(),
        example.to_string()
    ))
}

/// Follows a local `$ref` (`#/components/...`), once; anything else is returned as is.
fn resolve(doc: &Value, value: &Value) -> Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).cloned().unwrap_or(Value::Null),
        None => value.clone(),
    }
}
