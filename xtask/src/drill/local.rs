//! `drill failover --local`: the drill against the local runtime (`local::run`), which the drill
//! starts itself and stops when it ends, so the runtime's lifetime covers the drill's restore
//! (also on an error or Ctrl-C) and no other process's ports have to be found. Each region's
//! real api function answers `/health` (reading the drill flag from the emulator's SSM) and the
//! probe's commands on its HTTP gateway on 127.0.0.1, reached by the drill's one client
//! ([`engine::drill::apis::HttpApis`], the one that speaks HTTPS to deployed APIs); the real
//! publisher, fed by the emulated event source mapping, puts the events on the region's Kinesis
//! stream.

use anyhow::Result;
use engine::drill::apis::{HttpApis, Trust};
use std::collections::BTreeMap;

/// The regions' APIs as the local runtime serves them at `urls` (region →
/// `http://127.0.0.1:<port>`).
pub fn runtime_apis(urls: BTreeMap<String, String>) -> Result<HttpApis> {
    HttpApis::new(
        urls,
        Trust::System,
        "the local runtime: each region's real api function binary behind its HTTP gateway on 127.0.0.1, and the \
         real publisher binary fed by the emulated event source mapping on the region's table stream",
    )
}

#[cfg(test)]
mod tests;
