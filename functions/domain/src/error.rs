//! The error type of the domain and the functions, split into retryable and non-retryable so a
//! stream handler knows whether to report a record for another try and the API picks a status.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// Everything that can go wrong while handling a command, a query or an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The request is malformed: `field` names the offending input.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The input field (`title`, `id`, `body`, ...).
        field: String,
        /// What is wrong and what is expected instead.
        message: String,
    },
    /// The aggregate does not exist.
    #[error("{aggregate} was not found")]
    NotFound {
        /// `Task#<id>`.
        aggregate: String,
    },
    /// The aggregate moved on since the caller read it, or a concurrent command appended first.
    #[error("version conflict on {aggregate}: expected version {expected}, found {actual}")]
    VersionConflict {
        /// `Task#<id>`.
        aggregate: String,
        /// The version the command was decided against.
        expected: u64,
        /// The version found (`expected + 1` or more when a concurrent append won).
        actual: u64,
    },
    /// The command is not allowed in the aggregate's current state (an invariant).
    #[error("{reason}")]
    Rejected {
        /// Why, in words a client can show.
        reason: String,
    },
    /// This region does not have the aggregate's events up to `want` yet: global-table
    /// replication applies items one by one, so another region's events arrive with a delay
    /// and may arrive out of order. Not corruption: a retry shortly after succeeds.
    #[error("{aggregate} is at version {have} in this region and version {want} has not arrived yet; retry shortly")]
    Replicating {
        /// `Task#<id>`.
        aggregate: String,
        /// The version this region can fold without a gap.
        have: u64,
        /// The version asked for (the missing event, or the reader's `min_version`).
        want: u64,
    },
    /// A CommandId was reused for a different command.
    #[error("command id {command_id} was already used for a different command; use a new id")]
    CommandIdReused {
        /// The reused id.
        command_id: String,
    },
    /// Stored data or an incoming event does not have the expected shape (a poison record).
    #[error("malformed {what}: {message}")]
    Malformed {
        /// What was being read (`event log item`, `domain event`, ...).
        what: String,
        /// What is wrong.
        message: String,
    },
    /// A call to an AWS service failed.
    #[error("{operation} failed ({code}): {message}")]
    Aws {
        /// The operation (`PutItem`, `PutRecords`, ...).
        operation: String,
        /// The service error code, or the transport failure kind.
        code: String,
        /// The service message.
        message: String,
        /// Whether trying again later can succeed (throttling, timeouts, 5xx).
        retryable: bool,
    },
    /// The function is misconfigured (a missing environment variable, ...).
    #[error("configuration: {0}")]
    Config(String),
}

impl DomainError {
    /// Shorthand for [`DomainError::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid { field: field.into(), message: message.into() }
    }

    /// Shorthand for [`DomainError::Malformed`].
    pub fn malformed(what: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Malformed { what: what.into(), message: message.into() }
    }

    /// Whether the same input can succeed on a later try. Poison input, invariant violations and
    /// misconfiguration never do; throttling, timeouts and conflicts with concurrent writers can.
    pub fn is_retryable(&self) -> bool {
        match self {
            DomainError::Aws { retryable, .. } => *retryable,
            DomainError::VersionConflict { .. } | DomainError::Replicating { .. } => true,
            DomainError::Invalid { .. }
            | DomainError::NotFound { .. }
            | DomainError::Rejected { .. }
            | DomainError::CommandIdReused { .. }
            | DomainError::Malformed { .. }
            | DomainError::Config(_) => false,
        }
    }

    /// Converts an SDK error of any AWS service, classifying it as retryable or not.
    pub fn from_sdk<E>(operation: &str, error: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let (code, message, retryable) = match error {
            SdkError::ServiceError(service) => {
                let err = service.err();
                let status = service.raw().status().as_u16();
                let message = err.message().unwrap_or_default().to_owned();
                match err.code() {
                    Some(code) => (code.to_owned(), message, is_retryable_code(code)),
                    // No error code: judge by the HTTP status (throttled or a server error).
                    None => (format!("HTTP {status}"), message, status == 429 || status >= 500),
                }
            }
            SdkError::TimeoutError(_) => ("Timeout".into(), format!("{error:?}"), true),
            SdkError::DispatchFailure(_) => ("DispatchFailure".into(), format!("{error:?}"), true),
            SdkError::ResponseError(_) => ("ResponseError".into(), format!("{error:?}"), true),
            // Construction failures are programming or configuration errors.
            _ => ("ConstructionFailure".into(), format!("{error:?}"), false),
        };
        DomainError::Aws { operation: operation.to_owned(), code, message, retryable }
    }
}

/// Error codes that mean "try again later" across DynamoDB, Kinesis, S3, SQS and SSM.
pub fn is_retryable_code(code: &str) -> bool {
    matches!(
        code,
        "ThrottlingException"
            | "Throttling"
            | "ThrottledException"
            | "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded"
            | "TransactionConflictException"
            | "TransactionInProgressException"
            | "InternalServerError"
            | "InternalFailure"
            | "InternalError"
            | "ServiceUnavailable"
            | "SlowDown"
            | "RequestTimeout"
            | "KMSThrottlingException"
            | "LimitExceededException"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_errors_are_retryable() {
        assert!(!DomainError::invalid("title", "empty").is_retryable());
        assert!(!DomainError::malformed("domain event", "not JSON").is_retryable());
        assert!(DomainError::VersionConflict { aggregate: "Task#1".into(), expected: 1, actual: 2 }.is_retryable());
        assert!(is_retryable_code("ProvisionedThroughputExceededException"));
        assert!(!is_retryable_code("ValidationException"));
        assert!(!is_retryable_code("AccessDeniedException"));
    }
}
