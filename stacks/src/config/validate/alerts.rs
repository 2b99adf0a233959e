//! `[alerts]`: email addresses and an existing topic's ARN, which must be in every alarm's region.

use super::Checker;
use crate::config::raw::RawAlerts;
use crate::config::{AlertsConfig, REGION_PLACEHOLDER, RegionConfig};
use std::collections::BTreeSet;
use toml::Spanned;

impl Checker<'_> {
    pub(super) fn alerts(&mut self, raw: &RawAlerts, regions: &[RegionConfig]) -> AlertsConfig {
        let mut seen = BTreeSet::new();
        for (index, email) in raw.email.iter().enumerate() {
            let field = format!("alerts.email[{index}]");
            let address = email.get_ref();
            if !is_email_address(address) {
                self.error(
                    email.span(),
                    field,
                    format!("\"{address}\" is not an email address; write it as name@example.com"),
                );
            } else if !seen.insert(address.to_ascii_lowercase()) {
                self.error(email.span(), field, format!("\"{address}\" is listed twice; remove one"));
            } else if raw.topic_arn.is_some() {
                self.error(email.span(), field, "email subscribes the kit's own topic, but topic_arn replaces it; subscribe on your topic, or remove topic_arn");
            }
        }
        if let Some(arn) = &raw.topic_arn {
            self.check_topic_arn(arn, regions);
        }
        AlertsConfig {
            emails: raw.email.iter().map(|e| e.get_ref().clone()).collect(),
            topic_arn: raw.topic_arn.as_ref().map(|arn| arn.get_ref().clone()),
        }
    }

    /// `arn:aws:sns:<region or {region}>:<account>:<name>`, in every alarm's own region.
    fn check_topic_arn(&mut self, arn: &Spanned<String>, regions: &[RegionConfig]) {
        let parts: Vec<&str> = arn.get_ref().splitn(6, ':').collect();
        let name_ok = |name: &str| {
            let base = name.strip_suffix(".fifo").unwrap_or(name);
            (1..=256).contains(&base.len()) && base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let well_formed = parts.len() == 6
            && parts[0] == "arn"
            && parts[1] == "aws"
            && parts[2] == "sns"
            && parts[4].len() == 12
            && parts[4].bytes().all(|b| b.is_ascii_digit())
            && name_ok(parts[5]);
        if !well_formed {
            self.error(
                arn.span(),
                "alerts.topic_arn",
                format!("not an SNS topic ARN; expected arn:aws:sns:{REGION_PLACEHOLDER}:<account>:<topic name>"),
            );
            return;
        }
        let region = parts[3];
        let elsewhere: Vec<&str> = regions.iter().map(|r| r.name.as_str()).filter(|r| *r != region).collect();
        if region != REGION_PLACEHOLDER && !elsewhere.is_empty() {
            self.error(
                arn.span(),
                "alerts.topic_arn",
                format!(
                    "the topic is in {region}, but CloudWatch alarms notify only a topic in their own region ({}); write {REGION_PLACEHOLDER} in place of the region and create the topic in every region",
                    elsewhere.join(", ")
                ),
            );
        }
    }
}

/// A plausible address: one `@`, a local part, a domain of dot-separated labels, no spaces.
fn is_email_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else { return false };
    let labels: Vec<&str> = domain.split('.').collect();
    address.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && !address.chars().any(char::is_whitespace)
        && labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}
