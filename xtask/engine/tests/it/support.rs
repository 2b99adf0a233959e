//! Test support: the local emulator (the one `cargo xtask test` started, or a fresh one) and
//! AWS access to it. Tests reach nothing but 127.0.0.1.

use engine::aws::{Aws, AwsSettings};
use engine::emulator::Emulator;

/// The emulator a test talks to; a server started here stops when this is dropped.
pub struct TestEmulator {
    _owned: Option<Emulator>,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

/// The emulator from `KIT_EMULATOR_ENDPOINT`, or a new one on a free loopback port.
pub fn emulator() -> TestEmulator {
    if let Ok(endpoint) = std::env::var("KIT_EMULATOR_ENDPOINT") {
        assert!(endpoint.starts_with("http://127.0.0.1:"), "tests only use a loopback emulator, not {endpoint}");
        return TestEmulator { _owned: None, endpoint };
    }
    let log = std::env::temp_dir().join(format!("kit-moto-{}.log", std::process::id()));
    let emulator = Emulator::start(None, &log).expect("start moto (run .ci/setup first)");
    TestEmulator { endpoint: emulator.endpoint(), _owned: Some(emulator) }
}

/// AWS access to the emulator.
pub async fn aws(emulator: &TestEmulator) -> Aws {
    let settings = AwsSettings { profile: None, endpoint_url: Some(emulator.endpoint.clone()) };
    Aws::load(&settings).await.expect("load AWS config for the emulator")
}
