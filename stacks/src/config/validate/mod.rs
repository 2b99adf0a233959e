//! Turns the raw file into an [`AppConfig`], collecting every error with its location.

use super::aws_regions::{closest_region, is_commercial_region};
mod alerts;

use super::raw::{RawConfig, RawDns, RawFunctions, RawRegion, RawStream, Routing};
use super::*;
use std::collections::BTreeSet;
use std::ops::Range;
use toml::Spanned;

/// CloudWatch Logs accepts only these retention periods.
const LOG_RETENTION_DAYS: &[i64] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
/// DynamoDB streams keep records for 24 hours; the publisher's mapping cannot wait longer.
const DYNAMODB_STREAM_RETENTION_SECONDS: i64 = 86_400;

pub(super) fn parse(file: &str, source: &str) -> Result<AppConfig, ConfigErrors> {
    let mut checker = Checker { file, source, errors: Vec::new(), warnings: Vec::new() };
    let raw: RawConfig = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(error) => {
            let span = error.span().unwrap_or(0..0);
            let message = error.message().to_owned();
            checker.error(span, field_of_parse_error(&message), message);
            return Err(ConfigErrors(checker.errors));
        }
    };
    let config = checker.config(raw);
    if checker.errors.is_empty() {
        Ok(AppConfig { warnings: checker.warnings, ..config })
    } else {
        Err(ConfigErrors(checker.errors))
    }
}

/// toml's messages name the offending key in backticks; use it as the field when present.
fn field_of_parse_error(message: &str) -> String {
    message.split('`').nth(1).filter(|name| !name.is_empty()).unwrap_or("(syntax)").to_owned()
}

struct Checker<'a> {
    file: &'a str,
    source: &'a str,
    errors: Vec<ConfigDiagnostic>,
    warnings: Vec<ConfigDiagnostic>,
}

impl Checker<'_> {
    fn diagnostic(&self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) -> ConfigDiagnostic {
        let offset = span.start.min(self.source.len());
        let before = &self.source[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ConfigDiagnostic { file: self.file.to_owned(), line, column, field: field.into(), message: message.into() }
    }

    fn error(&mut self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) {
        let diagnostic = self.diagnostic(span, field, message);
        self.errors.push(diagnostic);
    }

    fn warn(&mut self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) {
        let diagnostic = self.diagnostic(span, field, message);
        self.warnings.push(diagnostic);
    }

    /// An integer within `range`, or `default` when absent.
    fn int(&mut self, value: &Option<Spanned<i64>>, field: &str, range: Range<i64>, default: u32, hint: &str) -> u32 {
        let Some(value) = value else { return default };
        let n = *value.get_ref();
        if range.contains(&n) {
            u32::try_from(n).unwrap_or(default)
        } else {
            let (low, high) = (range.start, range.end - 1);
            self.error(value.span(), field, format!("{n} is out of range; use {low} to {high}{hint}"));
            default
        }
    }

    fn config(&mut self, raw: RawConfig) -> AppConfig {
        self.check_app(&raw.app);
        if let Some(account) = &raw.account {
            let valid = account.get_ref().len() == 12 && account.get_ref().bytes().all(|b| b.is_ascii_digit());
            if !valid {
                self.error(account.span(), "account", "an AWS account ID is exactly 12 digits");
            }
        }
        let routing = raw.dns.as_ref().map(|dns| dns.get_ref().routing);
        let regions = self.regions(&raw, routing);
        let dns = raw.dns.as_ref().map(|dns| self.dns(dns, &raw.regions));
        let functions = self.functions(&raw.functions);
        let stream = self.stream(&raw.stream);
        let projections = self.projections(&raw.projections);
        let alerts = raw.alerts.as_ref().map(|alerts| self.alerts(alerts.get_ref(), &regions)).unwrap_or_default();
        AppConfig {
            app: raw.app.get_ref().clone(),
            account: raw.account.map(Spanned::into_inner),
            home: raw.home.get_ref().clone(),
            regions,
            dns,
            functions,
            stream,
            projections,
            alerts,
            warnings: Vec::new(),
        }
    }

    fn check_app(&mut self, app: &Spanned<String>) {
        let name = app.get_ref();
        let mut chars = name.chars();
        let valid = (2..=21).contains(&name.len())
            && chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            self.error(
                app.span(),
                "app",
                format!("\"{name}\" is not a valid app name; use 2-21 characters: a lowercase letter, then lowercase letters, digits or '-'"),
            );
        }
    }

    fn regions(&mut self, raw: &RawConfig, routing: Option<Routing>) -> Vec<RegionConfig> {
        if raw.regions.is_empty() {
            self.error(0..0, "region", "no [[region]] entries; add at least one, e.g. [[region]] name = \"us-east-1\"");
        }
        let mut seen = BTreeSet::new();
        let mut regions = Vec::new();
        for (index, region) in raw.regions.iter().enumerate() {
            let field = format!("region[{index}]");
            let region = region.get_ref();
            let name = region.name.get_ref();
            if !is_commercial_region(name) {
                let hint = closest_region(name).map(|c| format!(" (did you mean \"{c}\"?)")).unwrap_or_default();
                self.error(
                    region.name.span(),
                    format!("{field}.name"),
                    format!("unknown AWS region \"{name}\"{hint}; use a commercial region code such as \"eu-west-1\""),
                );
            } else if !seen.insert(name.clone()) {
                self.error(
                    region.name.span(),
                    format!("{field}.name"),
                    format!("region \"{name}\" is listed twice; remove one [[region]] entry"),
                );
            }
            self.check_certificate(region, &field, raw.account.as_ref().map(|a| a.get_ref().as_str()));
            let weight = self.check_weight(region, &field, routing);
            let priority = self.check_priority(region, &field, routing);
            regions.push(RegionConfig {
                name: name.clone(),
                certificate_arn: region.certificate_arn.as_ref().map(|c| c.get_ref().clone()),
                weight,
                priority,
            });
        }
        let home = raw.home.get_ref();
        if !raw.regions.is_empty() && !seen.contains(home) {
            let listed: Vec<&str> = seen.iter().map(String::as_str).collect();
            self.error(
                raw.home.span(),
                "home",
                format!(
                    "home region \"{home}\" is not among the [[region]] entries ({}); add it or pick one of them",
                    listed.join(", ")
                ),
            );
        }
        if raw.regions.len() == 1 {
            self.warn(
                raw.regions[0].span(),
                "region",
                "only one region: the app runs but is not active-active; add a second [[region]]",
            );
        }
        if routing == Some(Routing::Failover) {
            self.check_failover_chain(raw);
        }
        regions
    }

    fn check_certificate(&mut self, region: &RawRegion, field: &str, account: Option<&str>) {
        let Some(arn) = &region.certificate_arn else {
            return;
        };
        let parts: Vec<&str> = arn.get_ref().splitn(6, ':').collect();
        let region_name = region.name.get_ref();
        let well_formed =
            parts.len() == 6 && parts[0] == "arn" && parts[2] == "acm" && parts[5].starts_with("certificate/");
        if !well_formed {
            self.error(
                arn.span(),
                format!("{field}.certificate_arn"),
                "not an ACM certificate ARN; expected arn:aws:acm:<region>:<account>:certificate/<id>",
            );
        } else if parts[3] != region_name {
            self.error(arn.span(), format!("{field}.certificate_arn"), format!("the certificate is in {}, but a regional API domain needs a certificate in {region_name}; request one there", parts[3]));
        } else if account.is_some_and(|a| a != parts[4]) {
            self.error(arn.span(), format!("{field}.certificate_arn"), format!("the certificate belongs to account {}, not the configured account; use a certificate of that account", parts[4]));
        }
    }

    /// Checks `weight` against the routing policy; returns the weight to use.
    fn check_weight(&mut self, region: &RawRegion, field: &str, routing: Option<Routing>) -> u32 {
        let Some(weight) = &region.weight else {
            return 100;
        };
        if routing != Some(Routing::Weighted) {
            self.error(
                weight.span(),
                format!("{field}.weight"),
                "weight applies only with [dns] routing = \"weighted\"; remove it or change the routing",
            );
        }
        self.int(&Some(weight.clone()), &format!("{field}.weight"), 0..256, 100, "")
    }

    /// Checks `failover` and `priority` against the routing policy; returns the region's place in
    /// the failover chain, if it has one.
    fn check_priority(&mut self, region: &RawRegion, field: &str, routing: Option<Routing>) -> Option<u32> {
        for (key, span) in [
            ("failover", region.failover.as_ref().map(Spanned::span)),
            ("priority", region.priority.as_ref().map(Spanned::span)),
        ] {
            if let Some(span) = span
                && routing != Some(Routing::Failover)
            {
                self.error(
                    span,
                    format!("{field}.{key}"),
                    format!("{key} applies only with [dns] routing = \"failover\"; remove it or change the routing"),
                );
            }
        }
        match (&region.failover, &region.priority) {
            (Some(_), Some(priority)) => {
                self.error(
                    priority.span(),
                    format!("{field}.priority"),
                    "failover = \"primary\" or \"secondary\" already places this region (1 or 2); keep one of failover and priority",
                );
                None
            }
            (Some(role), None) => Some(role.get_ref().priority()),
            (None, Some(priority)) => {
                Some(self.int(&Some(priority.clone()), &format!("{field}.priority"), 1..256, 1, ""))
            }
            (None, None) => None,
        }
    }

    /// The failover chain: no two regions at one place, and a secondary only after a primary.
    /// Regions without a place follow the placed ones in file order.
    fn check_failover_chain(&mut self, raw: &RawConfig) {
        let mut taken: Vec<(u32, &str)> = Vec::new();
        for (index, region) in raw.regions.iter().enumerate() {
            let region = region.get_ref();
            let (place, span, key) = match (&region.failover, &region.priority) {
                (Some(role), None) => (role.get_ref().priority(), role.span(), "failover"),
                (None, Some(priority)) => match u32::try_from(*priority.get_ref()) {
                    Ok(place) => (place, priority.span(), "priority"),
                    Err(_) => continue,
                },
                _ => continue,
            };
            let name = region.name.get_ref();
            if let Some((_, other)) = taken.iter().find(|(p, _)| *p == place) {
                self.error(
                    span,
                    format!("region[{index}].{key}"),
                    format!(
                        "{name} and {other} both take place {place} of the failover chain (failover = \"primary\" is 1, \"secondary\" is 2); give each region its own place"
                    ),
                );
            } else {
                taken.push((place, name));
            }
        }
        let has_first = taken.iter().any(|(place, _)| *place == 1);
        for (index, region) in raw.regions.iter().enumerate() {
            let Some(role) = &region.get_ref().failover else { continue };
            if *role.get_ref() == FailoverRole::Secondary && !has_first {
                self.error(
                    role.span(),
                    format!("region[{index}].failover"),
                    "failover = \"secondary\" is the second place of the chain, but no region is first; mark one region failover = \"primary\"",
                );
            }
        }
    }

    fn dns(&mut self, dns: &Spanned<RawDns>, regions: &[Spanned<RawRegion>]) -> DnsConfig {
        let span = dns.span();
        let dns = dns.get_ref();
        let domain = dns.domain.get_ref();
        let labels: Vec<&str> = domain.split('.').collect();
        let valid_labels = labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
        if !valid_labels || domain.len() > 253 {
            self.error(
                dns.domain.span(),
                "dns.domain",
                format!("\"{domain}\" is not a lowercase host name; use letters, digits and '-' between dots"),
            );
        } else if labels.len() < 3 {
            self.error(dns.domain.span(), "dns.domain", format!("\"{domain}\" looks like a zone apex; the shared record is a CNAME, so use a subdomain such as api.{domain}"));
        }
        let zone = dns.hosted_zone_id.get_ref();
        if !(zone.starts_with('Z')
            && (2..=32).contains(&zone.len())
            && zone.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
        {
            self.error(
                dns.hosted_zone_id.span(),
                "dns.hosted_zone_id",
                format!("\"{zone}\" is not a Route53 hosted zone ID; copy it from the console (it starts with Z)"),
            );
        }
        let health_check_interval = match &dns.health_check_interval {
            None => 30,
            Some(v) if matches!(*v.get_ref(), 10 | 30) => *v.get_ref() as u32,
            Some(v) => {
                self.error(
                    v.span(),
                    "dns.health_check_interval",
                    format!("{} is not allowed; Route53 checks every 10 or 30 seconds", v.get_ref()),
                );
                30
            }
        };
        let failure_threshold = self.int(&dns.failure_threshold, "dns.failure_threshold", 1..11, 3, "");
        let ttl = self.int(&dns.ttl, "dns.ttl", 1..86_401, 60, " seconds");
        if ttl > 60 {
            let ttl_span = dns.ttl.as_ref().map_or(span.clone(), Spanned::span);
            self.warn(ttl_span, "dns.ttl", format!("{ttl} s delays failover: resolvers keep the failed region's answer that long; 60 or less is recommended"));
        }
        for (index, region) in regions.iter().enumerate() {
            let region = region.get_ref();
            if region.certificate_arn.is_none() {
                self.error(
                    region.name.span(),
                    format!("region[{index}].certificate_arn"),
                    format!(
                        "[dns] is set, so {} needs certificate_arn: an ACM certificate for {domain} in that region",
                        region.name.get_ref()
                    ),
                );
            }
        }
        DnsConfig {
            domain: domain.clone(),
            hosted_zone_id: zone.clone(),
            routing: dns.routing,
            health_check_interval,
            failure_threshold,
            ttl,
        }
    }

    fn functions(&mut self, raw: &RawFunctions) -> FunctionsConfig {
        let log_retention_days = match &raw.log_retention_days {
            None => 30,
            Some(v) if LOG_RETENTION_DAYS.contains(v.get_ref()) => *v.get_ref() as u32,
            Some(v) => {
                self.error(v.span(), "functions.log_retention_days", format!("{} is not a CloudWatch Logs retention; use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653", v.get_ref()));
                30
            }
        };
        FunctionsConfig {
            architecture: raw.architecture,
            memory_mb: self.int(&raw.memory_mb, "functions.memory_mb", 128..10_241, 512, " MB"),
            timeout_seconds: self.int(&raw.timeout_seconds, "functions.timeout_seconds", 1..901, 10, " seconds"),
            log_retention_days,
        }
    }

    fn stream(&mut self, raw: &RawStream) -> StreamConfig {
        let retention_hours = self.int(&raw.retention_hours, "stream.retention_hours", 24..8_761, 24, " hours");
        let batch_size = self.int(&raw.batch_size, "stream.batch_size", 1..10_001, 100, "");
        let default_window = u32::from(batch_size > 10);
        let batching_window_seconds = self.int(
            &raw.batching_window_seconds,
            "stream.batching_window_seconds",
            0..301,
            default_window,
            " seconds",
        );
        if batch_size > 10 && batching_window_seconds == 0 {
            let span = raw.batching_window_seconds.as_ref().map_or(0..0, Spanned::span);
            self.error(span, "stream.batching_window_seconds", "Lambda requires a batching window of at least 1 second when batch_size is over 10; set 1 or more, or lower batch_size");
        }
        let max_retries = self.int(
            &raw.max_retries,
            "stream.max_retries",
            0..10_001,
            5,
            " (a bounded retry count keeps a poison record from blocking its shard)",
        );
        let max_age_limit = DYNAMODB_STREAM_RETENTION_SECONDS.min(i64::from(retention_hours) * 3600);
        let max_record_age_seconds = self.int(
            &raw.max_record_age_seconds,
            "stream.max_record_age_seconds",
            60..max_age_limit + 1,
            3600,
            " seconds (records older than the streams' retention are gone anyway; DynamoDB streams keep 24 h)",
        );
        StreamConfig { retention_hours, batch_size, batching_window_seconds, max_retries, max_record_age_seconds }
    }

    fn projections(&mut self, raw: &[Spanned<super::raw::RawProjection>]) -> Vec<ProjectionConfig> {
        let mut seen = BTreeSet::new();
        let mut projections = Vec::new();
        for (index, projection) in raw.iter().enumerate() {
            let projection = projection.get_ref();
            let name = projection.name.get_ref();
            let field = format!("projection[{index}].name");
            let mut chars = name.chars();
            let valid = (1..=24).contains(&name.len())
                && chars.next().is_some_and(|c| c.is_ascii_lowercase())
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid {
                self.error(projection.name.span(), field, format!("\"{name}\" is not a valid projection name; use 1-24 characters: a lowercase letter, then lowercase letters, digits or '-'"));
            } else if !seen.insert(name.clone()) {
                self.error(
                    projection.name.span(),
                    field,
                    format!("projection \"{name}\" is declared twice; names must be unique"),
                );
            }
            projections.push(ProjectionConfig { name: name.clone(), kind: projection.kind });
        }
        projections
    }
}
