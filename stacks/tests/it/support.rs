//! Helpers shared by the integration tests: the example config and JSON look-ups.

use serde_json::Value;
use stacks::{AppConfig, Assembly};

/// The example `regions.toml` at the workspace root.
pub const EXAMPLE: &str = include_str!("../../../regions.toml");
/// The 12-region fixture.
pub const TWELVE: &str = include_str!("../fixtures/twelve-regions.toml");

/// Parses a config that must be valid.
pub fn config(text: &str) -> AppConfig {
    AppConfig::from_toml("regions.toml", text).unwrap_or_else(|e| panic!("config should be valid:\n{e}"))
}

/// Synthesizes a config that must be valid.
pub fn assembly(text: &str) -> Assembly {
    stacks::synthesize(&config(text)).unwrap_or_else(|e| panic!("synth should succeed:\n{e}"))
}

/// Every resource of `type_name` in a stack's template: `(logical id, properties)`.
pub fn resources_of<'a>(template: &'a Value, type_name: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_object()
        .map(|resources| {
            resources
                .iter()
                .filter(|(_, r)| r["Type"] == type_name)
                .map(|(id, r)| (id.as_str(), &r["Properties"]))
                .collect()
        })
        .unwrap_or_default()
}

/// The parsed JSON body of a stack.
pub fn json(stack: &stacks::Stack) -> Value {
    serde_json::from_str(&stack.body).expect("bodies are JSON")
}
