//! Generated configurations for benchmarks, property tests and the lint of large apps.

use super::aws_regions::COMMERCIAL_REGIONS;
use std::fmt::Write;

/// A valid `regions.toml` text for the first `count` known regions (at most
/// [`COMMERCIAL_REGIONS`]), latency routing, a certificate per region and both projection kinds.
pub fn sample_toml(count: usize) -> String {
    let regions = &COMMERCIAL_REGIONS[..count.clamp(1, COMMERCIAL_REGIONS.len())];
    let mut text = format!("app = \"bench\"\nhome = \"{}\"\n", regions[0]);
    for (i, region) in regions.iter().enumerate() {
        // Writing to a String cannot fail.
        let _ = write!(
            text,
            "\n[[region]]\nname = \"{region}\"\ncertificate_arn = \"arn:aws:acm:{region}:123456789012:certificate/00000000-0000-4000-8000-{i:012}\"\n"
        );
    }
    text.push_str(
        "\n[dns]\ndomain = \"api.bench.example.com\"\nhosted_zone_id = \"Z0123456789ABCDEFGHIJ\"\nrouting = \"latency\"\nhealth_check_interval = 10\n\
         \n[[projection]]\nname = \"audit\"\nkind = \"s3-audit\"\n\
         \n[[projection]]\nname = \"task-view\"\nkind = \"read-model\"\n",
    );
    text
}
