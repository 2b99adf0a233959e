//! Before a removed region's stack is deleted: resolvers forget its record (the record's TTL: a
//! resolver may answer from its cache that long after the dns stack's update, Route 53 API
//! reference `ResourceRecordSet.TTL`), and its publisher and projectors drain. They are drained
//! when none of them reports a non-zero `IteratorAge` over the last window: with no traffic there
//! is no invocation and so no datapoint (Lambda emits the metric for stream invocations only).
//! After the timeout a person decides; without a terminal the step fails and says how to go on.

use crate::approval::Prompt;
use crate::aws::Aws;
use crate::observe;
use anyhow::{Result, bail};
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long and how often to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainSettings {
    /// The dns record's TTL (zero without a dns stack).
    pub ttl: Duration,
    /// How long the consumers may take to drain before a person is asked.
    pub timeout: Duration,
    /// Between two readings.
    pub poll: Duration,
    /// The window each reading covers.
    pub window: Duration,
    /// Go on without waiting for the consumers (the TTL is still waited for).
    pub skip: bool,
}

impl Default for DrainSettings {
    fn default() -> Self {
        DrainSettings {
            ttl: Duration::ZERO,
            timeout: Duration::from_secs(15 * 60),
            poll: Duration::from_secs(30),
            window: Duration::from_secs(5 * 60),
            skip: false,
        }
    }
}

/// The names of the functions that consume a stream in a region stack template: every event
/// source mapping's `FunctionName` (a literal, or a `Ref` to a function with a literal name).
pub fn consumers(template: &Value) -> Vec<String> {
    let resources = &template["Resources"];
    let mut names: Vec<String> = resources
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["Type"] == "AWS::Lambda::EventSourceMapping")
        .filter_map(|(_, mapping)| {
            let function = &mapping["Properties"]["FunctionName"];
            match function["Ref"].as_str() {
                Some(id) => resources[id]["Properties"]["FunctionName"].as_str().map(str::to_owned),
                None => function.as_str().map(str::to_owned),
            }
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Waits out the TTL, then until every consumer in `region` is drained or a person says go on.
pub async fn drain(
    aws: &Aws,
    region: &str,
    functions: &[String],
    settings: &DrainSettings,
    prompt: &dyn Prompt,
) -> Result<()> {
    if !settings.ttl.is_zero() {
        println!("waiting {} s (the record's TTL) for resolvers to forget {region}", settings.ttl.as_secs());
        tokio::time::sleep(settings.ttl).await;
    }
    if settings.skip {
        println!(
            "not waiting for {region}'s consumers (--skip-drain): what they had not processed is left unprocessed"
        );
        return Ok(());
    }
    let cloudwatch = aws.cloudwatch(region);
    let started = Instant::now();
    loop {
        let mut busy = Vec::new();
        for function in functions {
            match observe::iterator_age_ms(&cloudwatch, function, settings.window).await? {
                Some(age) if age > 0.0 => busy.push(format!("{function}: {age:.0} ms")),
                Some(_) | None => {}
            }
        }
        if busy.is_empty() {
            println!(
                "{region} drained: no iterator age above 0 over the last {} s ({})",
                settings.window.as_secs(),
                functions.join(", ")
            );
            return Ok(());
        }
        if started.elapsed() >= settings.timeout {
            return decide(region, &busy, settings, prompt);
        }
        println!("{region} not drained yet ({}); next reading in {} s", busy.join(", "), settings.poll.as_secs());
        tokio::time::sleep(settings.poll).await;
    }
}

/// After the timeout: a person at a terminal may go on; otherwise the step fails with the ways on.
fn decide(region: &str, busy: &[String], settings: &DrainSettings, prompt: &dyn Prompt) -> Result<()> {
    let state =
        format!("{region}'s consumers have not drained after {} s ({})", settings.timeout.as_secs(), busy.join(", "));
    let question = format!(
        "{state}. Delete its region stack anyway? Events it has not published or projected yet stay in the log only \
         [y/N]"
    );
    match prompt.ask(&question)? {
        Some(answer) if matches!(answer.as_str(), "y" | "Y" | "yes") => Ok(()),
        Some(_) => bail!("{state}; not going on"),
        None => bail!(
            "{state}, and there is no terminal to ask; run the same command with --resume to wait again, or with \
             --resume --skip-drain to go on without waiting"
        ),
    }
}
