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
        .with_interface(progenitor::InterfaceStyle::Positional)
        // Lets users and tests publish JSON Schemas of the exact wire types.
        .with_derive("schemars::JsonSchema");
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .map_err(|e| format!("progenitor rejected it: {e}"))?;
    let file = syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;

    let out_dir = std::env::var("OUT_DIR").map_err(|e| e.to_string())?;
    let out = Path::new(&out_dir).join("codegen.rs");
    std::fs::write(&out, prettyplease::unparse(&file)).map_err(|e| e.to_string())
}
