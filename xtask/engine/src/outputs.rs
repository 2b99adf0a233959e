//! Stack outputs for `--outputs-file`: `{stack: {OutputKey: OutputValue}}`. moto shows no
//! outputs once a change set has executed; against it the outputs whose value is a plain `Ref`
//! are read from the stack's resources (physical IDs) and the others are left out, which the
//! notes say.

use crate::session::Session;
use anyhow::{Context, Result};
use std::collections::BTreeMap;

/// Outputs by stack, then by key.
pub type Outputs = BTreeMap<String, BTreeMap<String, String>>;

/// The outputs of the deployed stacks among `names`, and notes on what was emulated.
pub async fn collect(session: &Session, names: &[String]) -> Result<(Outputs, Vec<String>)> {
    let mut outputs = Outputs::new();
    let mut notes = Vec::new();
    for name in names {
        let stack = session.named(name)?;
        let cfn = session.aws.cloudformation(&stack.region);
        let Ok(described) = cfn.describe_stacks().stack_name(name).send().await else { continue };
        let Some(deployed) = described.stacks().first() else { continue };
        let mut values: BTreeMap<String, String> = deployed
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
            .collect();
        if values.is_empty() && session.aws.is_emulated() {
            let (emulated, left_out) = emulated_outputs(&cfn, name, &stack.body).await?;
            values = emulated;
            if !left_out.is_empty() {
                notes.push(format!(
                    "emulator: {name} shows no outputs after a change set; {} left out (only Ref outputs are read \
                     from the stack's resources)",
                    left_out.join(", ")
                ));
            }
        }
        outputs.insert(name.clone(), values);
    }
    Ok((outputs, notes))
}

/// Outputs whose value is `{"Ref": <logical id>}` resolved to physical IDs; the keys of the rest.
async fn emulated_outputs(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
    body: &str,
) -> Result<(BTreeMap<String, String>, Vec<String>)> {
    let template: serde_json::Value = serde_json::from_str(body)?;
    let resources = cfn
        .list_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .with_context(|| format!("listing the resources of {stack}"))?;
    let physical: BTreeMap<&str, &str> = resources
        .stack_resource_summaries()
        .iter()
        .filter_map(|r| Some((r.logical_resource_id()?, r.physical_resource_id()?)))
        .collect();
    let mut values = BTreeMap::new();
    let mut left_out = Vec::new();
    for (key, output) in template["Outputs"].as_object().into_iter().flatten() {
        let resolved = output["Value"]["Ref"].as_str().and_then(|id| physical.get(id));
        match resolved {
            Some(value) => {
                values.insert(key.clone(), (*value).to_owned());
            }
            None => left_out.push(key.clone()),
        }
    }
    Ok((values, left_out))
}
