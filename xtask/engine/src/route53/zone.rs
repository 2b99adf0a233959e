//! The hosted zone holding the shared name, found by name (`ListHostedZonesByName`) or created
//! (`CreateHostedZone`). Used against the emulator, where no zone exists until the kit makes one.
//! The zone is the shared name's parent (`orders.example.com` for `api.orders.example.com`): a
//! CNAME cannot sit at a zone apex (RFC 1034 3.6.2; Route 53 developer guide, "Choosing between
//! alias and non-alias records"), and the shared name's records are CNAMEs.

use anyhow::{Context, Result};
use std::time::{SystemTime, UNIX_EPOCH};

/// A hosted zone the kit found or created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Its ID without the `/hostedzone/` prefix Route53 returns it with.
    pub id: String,
    /// Whether this call created it.
    pub created: bool,
}

/// The zone that holds `domain`: its parent (config validation makes the shared name at least
/// three labels long).
pub fn parent(domain: &str) -> &str {
    let domain = domain.trim_end_matches('.');
    domain.split_once('.').map_or(domain, |(_, parent)| parent)
}

/// The public hosted zone named `zone_name`, created when there is none.
pub async fn ensure(route53: &aws_sdk_route53::Client, zone_name: &str) -> Result<Zone> {
    let domain = zone_name.trim_end_matches('.');
    let wanted = format!("{domain}.");
    let listed = route53
        .list_hosted_zones_by_name()
        .dns_name(&wanted)
        .max_items(1)
        .send()
        .await
        .with_context(|| format!("looking for the hosted zone of {domain} (ListHostedZonesByName)"))?;
    // Zones are listed in name order starting at `dns_name`: the first is the one, if any.
    if let Some(zone) = listed.hosted_zones().first().filter(|z| z.name() == wanted) {
        return Ok(Zone { id: bare_id(zone.id()), created: false });
    }
    // CallerReference must be unique per request (Route 53 API reference, CreateHostedZone).
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let created = route53
        .create_hosted_zone()
        .name(&wanted)
        .caller_reference(format!("kit-{domain}-{nanos}"))
        .send()
        .await
        .with_context(|| format!("creating the hosted zone of {domain} (CreateHostedZone)"))?;
    let zone = created.hosted_zone().context("CreateHostedZone returned no zone")?;
    Ok(Zone { id: bare_id(zone.id()), created: true })
}

/// `Z123` from `/hostedzone/Z123`.
pub fn bare_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_owned()
}

#[cfg(test)]
mod tests {
    use super::{bare_id, parent};

    #[test]
    fn the_zone_of_the_shared_name_is_its_parent_and_ids_lose_their_prefix() {
        assert_eq!(parent("api.orders.example.com"), "orders.example.com");
        assert_eq!(parent("api.orders.example.com."), "orders.example.com");
        assert_eq!(bare_id("/hostedzone/Z123"), "Z123");
        assert_eq!(bare_id("Z123"), "Z123");
    }
}
