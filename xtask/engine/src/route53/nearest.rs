//! "Nearest" for latency routing, approximated: Route53 answers a latency query with the record
//! whose region has the lowest measured latency from the resolver, which the kit cannot measure
//! offline. It ranks regions instead by great-circle distance between the cities that host them
//! (a static, documented order; approximate locations from AWS's "Regions and Availability
//! Zones" page). Distance tracks latency well between continents and only roughly within one.

/// Approximate (latitude, longitude) of each commercial region's location.
const LOCATIONS: &[(&str, f64, f64)] = &[
    ("us-east-1", 38.9, -77.4),       // N. Virginia
    ("us-east-2", 40.0, -83.0),       // Ohio
    ("us-west-1", 37.4, -121.9),      // N. California
    ("us-west-2", 45.8, -119.7),      // Oregon
    ("af-south-1", -33.9, 18.4),      // Cape Town
    ("ap-east-1", 22.3, 114.2),       // Hong Kong
    ("ap-east-2", 25.0, 121.5),       // Taipei
    ("ap-south-1", 19.1, 72.9),       // Mumbai
    ("ap-south-2", 17.4, 78.5),       // Hyderabad
    ("ap-southeast-1", 1.35, 103.8),  // Singapore
    ("ap-southeast-2", -33.9, 151.2), // Sydney
    ("ap-southeast-3", -6.2, 106.8),  // Jakarta
    ("ap-southeast-4", -37.8, 145.0), // Melbourne
    ("ap-southeast-5", 3.1, 101.7),   // Malaysia
    ("ap-southeast-6", -36.8, 174.8), // New Zealand
    ("ap-southeast-7", 13.8, 100.5),  // Thailand
    ("ap-northeast-1", 35.7, 139.7),  // Tokyo
    ("ap-northeast-2", 37.6, 127.0),  // Seoul
    ("ap-northeast-3", 34.7, 135.5),  // Osaka
    ("ca-central-1", 45.5, -73.6),    // Montreal
    ("ca-west-1", 51.0, -114.1),      // Calgary
    ("eu-central-1", 50.1, 8.7),      // Frankfurt
    ("eu-central-2", 47.4, 8.5),      // Zurich
    ("eu-west-1", 53.3, -6.3),        // Dublin
    ("eu-west-2", 51.5, -0.1),        // London
    ("eu-west-3", 48.9, 2.4),         // Paris
    ("eu-south-1", 45.5, 9.2),        // Milan
    ("eu-south-2", 41.6, -0.9),       // Spain
    ("eu-north-1", 59.3, 18.1),       // Stockholm
    ("il-central-1", 32.1, 34.8),     // Tel Aviv
    ("me-south-1", 26.1, 50.6),       // Bahrain
    ("me-central-1", 25.2, 55.3),     // UAE
    ("mx-central-1", 20.6, -100.4),   // Queretaro
    ("sa-east-1", -23.5, -46.6),      // Sao Paulo
];

/// Great-circle distance in kilometres between two regions, or `None` for an unknown region.
pub fn distance_km(from: &str, to: &str) -> Option<f64> {
    let locate = |code: &str| LOCATIONS.iter().find(|(c, _, _)| *c == code).map(|(_, lat, lon)| (*lat, *lon));
    let ((lat1, lon1), (lat2, lon2)) = (locate(from)?, locate(to)?);
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let (dphi, dlambda) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let a = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    Some(2.0 * 6371.0 * a.sqrt().asin())
}

#[cfg(test)]
mod tests {
    use super::{LOCATIONS, distance_km};

    #[test]
    fn every_commercial_region_has_a_location_and_neighbours_are_near() {
        for region in stacks::config::COMMERCIAL_REGIONS {
            assert!(LOCATIONS.iter().any(|(code, _, _)| code == region), "{region} has no location");
        }
        let near = distance_km("eu-west-1", "eu-west-2").expect("known");
        let far = distance_km("eu-west-1", "ap-southeast-2").expect("known");
        assert!(near < 1_000.0 && far > 15_000.0, "{near} {far}");
        assert_eq!(distance_km("eu-west-1", "mars-1"), None);
    }
}
