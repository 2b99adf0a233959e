//! Where a client's calls go, and whether that place is this machine. The kit's one loopback
//! check: real credentials are never signed into a request for a loopback endpoint (an emulator
//! on this machine), however the endpoint was configured.

use aws_config::SdkConfig;
use aws_types::service_config::ServiceConfigKey;
use std::net::IpAddr;
use url::{Host, Url};

/// Whether `endpoint` (a URL such as `http://127.0.0.1:4566`) names this machine: `localhost` (any
/// case, with or without a trailing dot, and its `*.localhost` subdomains, RFC 6761), an IPv4
/// address in 127.0.0.0/8, `::1`, an IPv4-mapped loopback address, or the unspecified address
/// (`0.0.0.0`, `::`), which connects to this machine. Anything that does not parse as a URL with
/// a host is not loopback.
pub fn is_loopback(endpoint: &str) -> bool {
    let Ok(url) = Url::parse(endpoint.trim()) else { return false };
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => is_local_ip(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_local_ip(IpAddr::V6(ip)),
        None => false,
    }
}

fn is_local_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.is_unspecified() || v6.to_ipv4_mapped().is_some_and(|v4| is_local_ip(IpAddr::V4(v4)))
        }
    }
}

/// The endpoint a client of `service` built from `config` will call, as the SDK decides it
/// (`aws_sdk_*::config::Builder::from(&SdkConfig)`): an endpoint set in code (`--endpoint-url`)
/// wins; otherwise the service's own setting (`AWS_ENDPOINT_URL_<SERVICE>`, or the profile's
/// `[services]` section) before the global one (`AWS_ENDPOINT_URL`, the profile's
/// `endpoint_url`). `None`: the service's AWS endpoint. `service` is the SDK's service id, e.g.
/// `CloudFormation` or `DynamoDB Streams`.
pub fn effective(config: &SdkConfig, service: &str) -> Option<String> {
    if config.get_origin("endpoint_url").is_client_config() {
        return config.endpoint_url().map(str::to_owned);
    }
    let key =
        ServiceConfigKey::builder().service_id(service).env("AWS_ENDPOINT_URL").profile("endpoint_url").build().ok();
    key.and_then(|key| config.service_config().and_then(|c| c.load_config(key)))
        .or_else(|| config.endpoint_url().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts_are_recognized_however_they_are_written() {
        for endpoint in [
            "http://127.0.0.1:4566",
            "http://127.1.2.3:80/path",
            "http://localhost:4566",
            "http://LOCALHOST:4566",
            "http://LocalHost.:4566/",
            "http://api.localhost:4566",
            "http://[::1]:4566",
            "http://[::ffff:127.0.0.1]:4566",
            "http://0.0.0.0:4566",
            "http://[::]:4566",
            "https://127.0.0.1",
            " http://127.0.0.1:4566 ",
        ] {
            assert!(is_loopback(endpoint), "{endpoint} is this machine");
        }
    }

    #[test]
    fn other_hosts_and_lookalikes_are_not_loopback() {
        for endpoint in [
            "https://cloudformation.us-east-1.amazonaws.com",
            "http://10.0.0.1:4566",
            "http://128.0.0.1:4566",
            "http://127.0.0.1.example.com:4566",
            "http://localhost.example.com:4566",
            "http://mylocalhost:4566",
            "http://user@evil.example.com:4566/127.0.0.1",
            "http://[::2]:4566",
            "127.0.0.1:4566",
            "not a url",
            "",
        ] {
            assert!(!is_loopback(endpoint), "{endpoint} is not this machine");
        }
    }
}
