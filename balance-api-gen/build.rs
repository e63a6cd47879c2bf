//! Generates the client from `openapi/balance.json` with progenitor on every change of that file.

use std::path::Path;

const FRAGMENT: &str = "../openapi/balance.json";

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

    let mut settings = progenitor::GenerationSettings::default();
    settings
        // Positional: fetch_balance(&sid) reads better than a builder for a one-parameter call.
        .with_interface(progenitor::InterfaceStyle::Positional)
        // Lets users and tests publish JSON Schemas of the exact wire types.
        .with_derive("schemars::JsonSchema")
        // The client carries Limits, and hooks.rs must implement ClientHooks for it: the body
        // cap is enforced in the one place every response passes through.
        .with_inner_type(quote("crate::Limits")?)
        .with_hooks(progenitor::HooksMode::Expected);
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .map_err(|e| format!("progenitor rejected it: {e}"))?;
    let file = syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;

    let mut code = prettyplease::unparse(&file);
    code.push_str(&server_const(&spec)?);

    let out_dir = std::env::var("OUT_DIR").map_err(|e| e.to_string())?;
    let out = Path::new(&out_dir).join("codegen.rs");
    std::fs::write(&out, code).map_err(|e| e.to_string())
}

fn quote(path: &str) -> Result<proc_macro2::TokenStream, String> {
    path.parse().map_err(|e| format!("{path}: {e}"))
}

/// progenitor ignores `servers`; the documented host is emitted here so the client's default
/// follows the spec rather than a copied string. A path item's own `servers` win, as in OpenAPI.
fn server_const(spec: &openapiv3::OpenAPI) -> Result<String, String> {
    let path_servers = spec.paths.paths.values().filter_map(|p| p.as_item());
    let url = path_servers
        .flat_map(|item| item.servers.first())
        .chain(spec.servers.first())
        .map(|s| s.url.as_str())
        .next()
        .ok_or("the fragment lists no servers")?;
    Ok(format!(
        "\n/// The server the spec documents (`servers[0].url`), before any region or edge.\n\
         pub const SERVER_URL: &str = {url:?};\n"
    ))
}
