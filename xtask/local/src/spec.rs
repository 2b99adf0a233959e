//! What the host needs to run a function (binary, region, memory, timeout, concurrency, its own
//! variables, credentials and the emulator's endpoint), and the environment a process gets: the
//! variables Lambda defines for every function ("Defined runtime environment variables",
//! <https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime>)
//! over the function's own, and nothing inherited from the host.

use crate::events::EnvironmentId;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The account in every ARN the host makes (moto's default account).
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// Credentials and endpoint the function's SDK clients use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsAccess {
    /// `AWS_ENDPOINT_URL`: every SDK client goes there (the local emulator).
    pub endpoint_url: Option<String>,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN` (Lambda always sets one: execution-role credentials are temporary).
    pub session_token: String,
}

impl AwsAccess {
    /// Dummy credentials for the emulator at `endpoint_url`: no real credential ever reaches a
    /// function process of the local runtime.
    pub fn emulator(endpoint_url: impl Into<String>) -> AwsAccess {
        AwsAccess {
            endpoint_url: Some(endpoint_url.into()),
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            session_token: "test".into(),
        }
    }
}

/// One function as the host runs it.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// `AWS_LAMBDA_FUNCTION_NAME`; also the name [`crate::Host::invoke`] takes.
    pub name: String,
    /// The executable (a `bootstrap` built for this machine).
    pub binary: PathBuf,
    /// `_HANDLER` (custom runtimes ignore it; Lambda sets what the function is configured with).
    pub handler: String,
    /// `AWS_REGION` and `AWS_DEFAULT_REGION`.
    pub region: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (not enforced locally).
    pub memory_mb: u32,
    /// Time an invocation may take before the environment is stopped.
    pub timeout: Duration,
    /// Most execution environments running at once (each serves one invocation at a time).
    pub max_concurrency: usize,
    /// The function's own variables (what its stack sets); Lambda's reserved ones win.
    pub variables: BTreeMap<String, String>,
    /// Credentials and endpoint.
    pub aws: AwsAccess,
}

impl FunctionSpec {
    /// A function with Lambda's defaults: 128 MB, 3 s timeout, handler `bootstrap`, one
    /// environment at a time, no variables of its own.
    pub fn new(name: impl Into<String>, binary: impl Into<PathBuf>, region: impl Into<String>, aws: AwsAccess) -> Self {
        FunctionSpec {
            name: name.into(),
            binary: binary.into(),
            handler: "bootstrap".into(),
            region: region.into(),
            memory_mb: 128,
            timeout: Duration::from_secs(3),
            max_concurrency: 1,
            variables: BTreeMap::new(),
            aws,
        }
    }

    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub fn arn(&self) -> String {
        format!("arn:aws:lambda:{}:{DEFAULT_ACCOUNT}:function:{}", self.region, self.name)
    }

    /// Every variable of environment `id`'s process, whose Runtime API listens on `runtime_api`.
    pub fn process_variables(&self, id: &EnvironmentId, runtime_api: SocketAddr) -> BTreeMap<String, String> {
        let task_root = self.binary.parent().map(|p| p.display().to_string()).unwrap_or_default();
        let mut variables = self.variables.clone();
        let reserved = [
            ("_HANDLER", self.handler.clone()),
            ("AWS_REGION", self.region.clone()),
            ("AWS_DEFAULT_REGION", self.region.clone()),
            ("AWS_LAMBDA_FUNCTION_NAME", self.name.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", self.memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", self.name)),
            ("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/[$LATEST]{:032x}", id.number)),
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
            ("AWS_ACCESS_KEY_ID", self.aws.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.aws.secret_access_key.clone()),
            ("AWS_SESSION_TOKEN", self.aws.session_token.clone()),
            ("LAMBDA_TASK_ROOT", task_root.clone()),
            ("LAMBDA_RUNTIME_DIR", task_root),
            ("TZ", ":UTC".into()),
        ];
        // Not reserved, so the function's own value wins: Lambda's defaults.
        for (name, value) in [("LANG", "en_US.UTF-8"), ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin")] {
            variables.entry(name.into()).or_insert_with(|| value.into());
        }
        variables.extend(reserved.into_iter().map(|(name, value)| (name.to_owned(), value)));
        if let Some(endpoint) = &self.aws.endpoint_url {
            variables.insert("AWS_ENDPOINT_URL".into(), endpoint.clone());
        }
        variables
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn reserved_variables_override_the_functions_own_and_the_endpoint_points_at_the_emulator() {
        let mut spec =
            FunctionSpec::new("api", "/opt/fn/bootstrap", "eu-west-1", AwsAccess::emulator("http://127.0.0.1:9"));
        spec.variables.insert("AWS_REGION".into(), "us-east-1".into());
        spec.variables.insert("EVENT_LOG_TABLE".into(), "events".into());
        spec.variables.insert("LANG".into(), "C".into());
        let id = EnvironmentId { function: Arc::from("api"), number: 7 };
        let variables = spec.process_variables(&id, "127.0.0.1:9001".parse().expect("address"));
        assert_eq!(variables["AWS_REGION"], "eu-west-1");
        assert_eq!(variables["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001");
        assert_eq!(variables["EVENT_LOG_TABLE"], "events");
        assert_eq!(variables["LANG"], "C");
        assert_eq!(variables["AWS_ENDPOINT_URL"], "http://127.0.0.1:9");
        assert_eq!(variables["AWS_ACCESS_KEY_ID"], "test");
        assert_eq!(variables["LAMBDA_TASK_ROOT"], "/opt/fn");
        assert!(!variables.contains_key("HOME"), "nothing is inherited from the host");
    }
}
