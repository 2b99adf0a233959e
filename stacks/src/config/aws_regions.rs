//! The AWS commercial regions (partition `aws`) the kit knows, checked without any network call.

/// Region codes of the `aws` partition, in the order AWS lists them.
pub const COMMERCIAL_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
];

/// Whether `code` is a known commercial region.
pub fn is_commercial_region(code: &str) -> bool {
    COMMERCIAL_REGIONS.contains(&code)
}

/// The known region closest in spelling to `code`, to suggest in an error.
pub fn closest_region(code: &str) -> Option<&'static str> {
    COMMERCIAL_REGIONS
        .iter()
        .map(|candidate| (edit_distance(code, candidate), *candidate))
        .filter(|(distance, _)| *distance <= 3)
        .min()
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_suggests_the_nearest_region() {
        assert_eq!(closest_region("eu-west-9"), Some("eu-west-1"));
        assert_eq!(closest_region("us-east1"), Some("us-east-1"));
        assert_eq!(closest_region("mars-north-1"), None);
    }
}
