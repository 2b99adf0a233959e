//! Which regions `status` looks in for stacks of regions no longer configured: the regions the
//! account has enabled, asked of the Account API (`ListRegions` with `RegionOptStatusContains`
//! `ENABLED` and `ENABLED_BY_DEFAULT`: "Lists all the Regions for a given account and their
//! respective opt-in statuses", AWS Account Management API reference, "ListRegions",
//! <https://docs.aws.amazon.com/accounts/latest/reference/API_ListRegions.html>; the statuses are
//! `ENABLED | ENABLING | DISABLING | DISABLED | ENABLED_BY_DEFAULT`, "Region",
//! <https://docs.aws.amazon.com/accounts/latest/reference/API_Region.html>). A region that is not
//! enabled cannot hold the app's stacks and answers no call, so it is not asked.
//!
//! Where the Account API cannot answer (the emulator does not serve `ListRegions`, or the
//! credentials lack `account:ListRegions`), every region of the built-in list is asked, and one
//! that does not answer is only named in one line: the endpoint does not serve it (the
//! emulator knows fewer regions than AWS has; on AWS, an opt-in region not enabled).

use crate::aws::Aws;
use anyhow::{Context, Result};
use aws_sdk_account::types::RegionOptStatus;
use stacks::config::COMMERCIAL_REGIONS;
use std::collections::{BTreeMap, BTreeSet};

/// The region the Account API is called in (a global service, served from `us-east-1` in the
/// `aws` partition).
const ACCOUNT_REGION: &str = "us-east-1";

/// Where the regions to look in came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The account's enabled regions.
    Enabled,
    /// The built-in list of commercial regions, because the account's could not be read (why).
    BuiltIn(String),
}

/// The regions to list the app's stacks in: the configured ones and every enabled one (or every
/// built-in one, with why).
pub async fn to_look_in(aws: &Aws, configured: &[String]) -> (BTreeSet<String>, Source) {
    let mut regions: BTreeSet<String> = configured.iter().cloned().collect();
    match enabled(&aws.account(ACCOUNT_REGION)).await {
        Ok(enabled) => {
            regions.extend(enabled);
            (regions, Source::Enabled)
        }
        Err(error) => {
            regions.extend(COMMERCIAL_REGIONS.iter().map(|r| (*r).to_owned()));
            (regions, Source::BuiltIn(format!("{error:#}")))
        }
    }
}

/// The regions enabled for the account (opted in, or enabled by default).
pub async fn enabled(account: &aws_sdk_account::Client) -> Result<Vec<String>> {
    let mut pages = account
        .list_regions()
        .region_opt_status_contains(RegionOptStatus::Enabled)
        .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
        .into_paginator()
        .send();
    let mut regions = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.context("asking which regions the account has enabled (Account ListRegions)")?;
        regions.extend(page.regions().iter().filter_map(|r| r.region_name().map(str::to_owned)));
    }
    Ok(regions)
}

/// The listings sorted out: regions with stacks, notes on what could not be read, and the
/// regions the endpoint does not serve. A configured region that fails is always a note; so is an
/// enabled one; a built-in one that fails is only named.
pub fn sort_out<T>(
    listings: Vec<(String, Result<Vec<T>>)>,
    configured: &[String],
    source: &Source,
    emulated: bool,
) -> (BTreeMap<String, Vec<T>>, Vec<String>, Vec<String>) {
    let mut found = BTreeMap::new();
    let mut notes = Vec::new();
    let mut not_served = Vec::new();
    if let (Source::BuiltIn(why), false) = (source, emulated) {
        notes.push(format!(
            "could not ask which regions the account has enabled ({why}); looked in every region the kit knows \
             (allow account:ListRegions to look only in enabled ones)"
        ));
    }
    for (region, listed) in listings {
        match listed {
            Ok(stacks) if !stacks.is_empty() => {
                found.insert(region, stacks);
            }
            Ok(_) => {}
            Err(_) if matches!(source, Source::BuiltIn(_)) && !configured.contains(&region) => {
                not_served.push(region);
            }
            Err(error) => notes.push(format!("could not list the stacks in {region}: {error:#}")),
        }
    }
    (found, notes, not_served)
}

#[cfg(test)]
mod tests {
    use super::{Source, enabled, sort_out};
    use aws_sdk_account::operation::list_regions::ListRegionsOutput;
    use aws_sdk_account::types::{Region, RegionOptStatus};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn listings() -> Vec<(String, anyhow::Result<Vec<&'static str>>)> {
        vec![
            ("eu-west-1".into(), Ok(vec!["shop-region-eu-west-1"])),
            ("us-east-1".into(), Ok(vec![])),
            ("ap-east-2".into(), Err(anyhow::anyhow!("error parsing XML"))),
            ("sa-east-1".into(), Err(anyhow::anyhow!("throttled"))),
        ]
    }

    #[test]
    fn a_region_the_endpoint_does_not_serve_is_only_named_unless_it_is_configured_or_enabled() {
        let configured = vec!["eu-west-1".to_owned(), "sa-east-1".to_owned()];
        let builtin = Source::BuiltIn("not served".into());
        let (found, notes, not_served) = sort_out(listings(), &configured, &builtin, true);
        assert_eq!(found.keys().collect::<Vec<_>>(), ["eu-west-1"]);
        assert_eq!(not_served, ["ap-east-2"]);
        assert_eq!(notes, ["could not list the stacks in sa-east-1: throttled"], "a configured region is a note");

        let (_, notes, not_served) = sort_out(listings(), &configured, &builtin, false);
        assert!(notes[0].starts_with("could not ask which regions the account has enabled"), "{notes:?}");
        assert_eq!(not_served, ["ap-east-2"]);

        let (_, notes, not_served) = sort_out(listings(), &configured, &Source::Enabled, false);
        assert!(not_served.is_empty());
        assert_eq!(notes.len(), 2, "an enabled region that fails is a note: {notes:?}");
    }

    #[tokio::test]
    async fn the_enabled_regions_are_those_listed_as_enabled_or_enabled_by_default() {
        let listed = mock!(aws_sdk_account::Client::list_regions)
            .match_requests(|request| {
                request.region_opt_status_contains()
                    == [RegionOptStatus::Enabled, RegionOptStatus::EnabledByDefault].as_slice()
            })
            .then_output(|| {
                let region = |name: &str, status| Region::builder().region_name(name).region_opt_status(status).build();
                ListRegionsOutput::builder()
                    .regions(region("us-east-1", RegionOptStatus::EnabledByDefault))
                    .regions(region("ap-east-2", RegionOptStatus::Enabled))
                    .build()
            });
        let account = mock_client!(aws_sdk_account, RuleMode::MatchAny, [&listed]);
        assert_eq!(enabled(&account).await.expect("listed"), ["us-east-1", "ap-east-2"]);
        assert_eq!(listed.num_calls(), 1);
    }
}
