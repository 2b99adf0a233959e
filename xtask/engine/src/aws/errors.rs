//! What kind of failure an AWS call met, for the decisions the engine makes on it: wait and try
//! again (throttled), stop following but not call the operation failed (throttled for too long,
//! credentials expired), or report it (everything else).

use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

/// The kinds of failure the engine treats differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The service asked to slow down (`Throttling`, `ThrottlingException`, `Rate exceeded`, ...).
    Throttled,
    /// The session's credentials expired (`ExpiredToken`, `RequestExpired`, ...) or could not be
    /// loaded any more.
    CredentialsExpired,
    /// The caller may not do this (`AccessDenied`, `AccessDeniedException`, ...).
    AccessDenied,
    /// The request never got an answer (network, timeout).
    Unreachable,
    /// Anything else.
    Other,
}

/// Error codes AWS services use for throttling.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ProvisionedThroughputExceededException",
];

/// Error codes AWS services use for expired or no longer valid credentials.
const EXPIRED_CODES: &[&str] =
    &["ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired", "InvalidClientTokenId"];

/// Error codes AWS services use for a denied permission.
const DENIED_CODES: &[&str] = &["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden"];

/// Classifies an error code and message (as `ProvideErrorMetadata` gives them).
pub fn classify_code(code: Option<&str>, message: Option<&str>) -> FailureKind {
    let code = code.unwrap_or_default();
    if THROTTLING_CODES.contains(&code) || message.is_some_and(|m| m.contains("Rate exceeded")) {
        FailureKind::Throttled
    } else if EXPIRED_CODES.contains(&code) {
        FailureKind::CredentialsExpired
    } else if DENIED_CODES.contains(&code) {
        FailureKind::AccessDenied
    } else {
        FailureKind::Other
    }
}

/// Classifies an SDK error of any operation.
pub fn classify<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> FailureKind {
    match error {
        SdkError::ServiceError(service) => classify_code(service.err().code(), service.err().message()),
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            FailureKind::Unreachable
        }
        // Credentials that cannot be resolved any more (an expired SSO session, a refresh that
        // fails) surface while the request is built, before it is sent.
        SdkError::ConstructionFailure(_) => FailureKind::CredentialsExpired,
        _ => FailureKind::Other,
    }
}

/// Whether an SDK error says the named thing does not exist (CloudFormation answers
/// `ValidationError` "Stack with id X does not exist"; other services have typed errors).
pub fn is_not_found<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error.as_service_error().is_some_and(|e| {
        e.message().is_some_and(|m| m.contains("does not exist"))
            || e.code().is_some_and(|c| c.ends_with("NotFound") || c.ends_with("NotFoundException"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_expiry_and_denial_are_told_apart() {
        assert_eq!(classify_code(Some("Throttling"), Some("Rate exceeded")), FailureKind::Throttled);
        assert_eq!(classify_code(Some("ValidationError"), Some("Rate exceeded")), FailureKind::Throttled);
        assert_eq!(classify_code(Some("ExpiredToken"), None), FailureKind::CredentialsExpired);
        assert_eq!(classify_code(Some("AccessDenied"), None), FailureKind::AccessDenied);
        assert_eq!(classify_code(Some("ValidationError"), Some("Stack x does not exist")), FailureKind::Other);
        assert_eq!(classify_code(None, None), FailureKind::Other);
    }
}
