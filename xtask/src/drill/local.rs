//! `drill failover --local`: the drill against the local runtime (`local::run`), which the drill
//! starts itself and stops when it ends, so the runtime's lifetime covers the drill's restore
//! (also on an error or Ctrl-C) and no other process's ports have to be found. Each region's
//! real api function answers `/health` (reading the drill flag from the emulator's SSM) and the
//! probe's commands on its HTTP gateway on 127.0.0.1; the real publisher, fed by the emulated
//! event source mapping, puts the events on the region's Kinesis stream.

use anyhow::{Context, Result, bail};
use engine::drill::checker::{BoxFuture, RegionApis};
use local::gateway::client::call;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// Route53 waits at most 4 seconds for an HTTP endpoint's answer (2 to connect, 2 to answer:
/// Route 53 developer guide, "How Amazon Route 53 determines whether a health check is healthy").
const HEALTH_TIMEOUT: Duration = Duration::from_secs(4);
/// A command's answer.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(15);

/// The regions' APIs as the local runtime serves them.
#[derive(Debug, Clone)]
pub struct RuntimeApis {
    urls: BTreeMap<String, String>,
}

impl RuntimeApis {
    /// The APIs at `urls` (region → `http://127.0.0.1:<port>`).
    pub fn new(urls: BTreeMap<String, String>) -> RuntimeApis {
        RuntimeApis { urls }
    }

    fn url(&self, region: &str) -> Result<&str> {
        let url = self.urls.get(region).with_context(|| format!("the local runtime does not run {region}"))?;
        Ok(url.as_str())
    }
}

impl RegionApis for RuntimeApis {
    fn health<'a>(&'a self, region: &'a str) -> BoxFuture<'a, Result<u16>> {
        Box::pin(async move { Ok(call(self.url(region)?, "GET", "/health", None, HEALTH_TIMEOUT).await?.status) })
    }

    fn create_task<'a>(&'a self, region: &'a str, title: &'a str) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            let body = json!({ "title": title });
            let answer = call(self.url(region)?, "POST", "/tasks", Some(&body), COMMAND_TIMEOUT).await?;
            if answer.status != 201 {
                bail!("POST /tasks on {region} answered {}: {}", answer.status, answer.body);
            }
            let id = answer.json()["id"].as_str().map(str::to_owned);
            id.with_context(|| format!("POST /tasks on {region} answered no task id: {}", answer.body))
        })
    }

    fn describe(&self) -> String {
        "the local runtime: each region's real api function binary behind its HTTP gateway on 127.0.0.1, and the \
         real publisher binary fed by the emulated event source mapping on the region's table stream"
            .to_owned()
    }
}

#[cfg(test)]
mod tests;
