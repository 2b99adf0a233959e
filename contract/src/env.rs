//! Each function's environment as a typed struct, declared once: the region stack builds it with
//! CloudFormation values (`ApiEnvironment<Expr>`) and renders it into the function's
//! `Environment.Variables` with [`ApiEnvironment::into_variables`]; the function reads it back
//! with one call ([`ApiEnvironment::from_env`]) whose error names the variable that is missing
//! or malformed. The variable names exist only in the declarations below.

/// What a variable's value must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A resource name: 1-255 characters, no whitespace.
    Name,
    /// An ARN (`arn:...`).
    Arn,
    /// An endpoint URL (`https://...`; `http://` for a local emulator).
    Url,
    /// An SSM parameter name (`/...`).
    Path,
}

impl Shape {
    /// `Err(expected)` when `value` does not have this shape.
    fn check(self, value: &str) -> Result<(), &'static str> {
        let plain = !value.is_empty() && value.len() <= 2048 && !value.chars().any(char::is_whitespace);
        let ok = match self {
            Shape::Name => plain && value.len() <= 255,
            Shape::Arn => plain && value.starts_with("arn:"),
            Shape::Url => plain && (value.starts_with("https://") || value.starts_with("http://")),
            Shape::Path => plain && value.starts_with('/'),
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            Shape::Name => "expected a resource name (1-255 characters, no whitespace)",
            Shape::Arn => "expected an ARN (arn:...)",
            Shape::Url => "expected a URL (https://...)",
            Shape::Path => "expected a parameter name starting with /",
        })
    }
}

/// A variable the function cannot start without.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// Not set, or set to the empty string.
    #[error(
        "environment variable {variable} is not set; the region stack sets it on the function (set it yourself to run the function elsewhere)"
    )]
    Missing {
        /// The variable.
        variable: &'static str,
    },
    /// Set to something of the wrong shape.
    #[error("environment variable {variable} is {value:?}: {expected}")]
    Invalid {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
        /// What it should look like.
        expected: &'static str,
    },
}

/// Reads `variable`; `Ok(None)` when it is unset or empty.
fn read(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    shape: Shape,
) -> Result<Option<String>, EnvError> {
    match lookup(variable) {
        None => Ok(None),
        Some(value) if value.is_empty() => Ok(None),
        Some(value) => match shape.check(&value) {
            Ok(()) => Ok(Some(value)),
            Err(expected) => Err(EnvError::Invalid { variable, value, expected }),
        },
    }
}

fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    shape: Shape,
) -> Result<String, EnvError> {
    read(lookup, variable, shape)?.ok_or(EnvError::Missing { variable })
}

/// A variable every deployment sets.
pub type Required<V> = V;
/// A variable only some deployments set (absent from the variables when `None`).
pub type Optional<V> = Option<V>;

/// Declares an environment struct generic over the value type (`String` when read by the
/// function, a template expression when written by the stack). Each field is `Required` or
/// `Optional`, names its variable once and says what its value must look like.
macro_rules! environment {
    (@push $variables:ident, Required, $variable:literal, $value:expr) => { $variables.push(($variable, $value)) };
    (@push $variables:ident, Optional, $variable:literal, $value:expr) => {
        if let Some(value) = $value {
            $variables.push(($variable, value));
        }
    };
    (@read $lookup:ident, Required, $variable:literal, $shape:ident) => { required(&$lookup, $variable, Shape::$shape)? };
    (@read $lookup:ident, Optional, $variable:literal, $shape:ident) => { read(&$lookup, $variable, Shape::$shape)? };
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$field_meta:meta])* $field:ident: $kind:ident = $variable:literal as $shape:ident; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name<V = String> {
            $( $(#[$field_meta])* pub $field: $kind<V>, )*
        }

        impl<V> $name<V> {
            /// Every variable name, in declaration order.
            pub const VARIABLES: &'static [&'static str] = &[$($variable),*];

            /// `(variable, value)` pairs as the region stack writes them.
            // Optional variables are pushed conditionally, so no `vec![..]`.
            #[allow(clippy::vec_init_then_push)]
            pub fn into_variables(self) -> Vec<(&'static str, V)> {
                let mut variables = Vec::new();
                $( environment!(@push variables, $kind, $variable, self.$field); )*
                variables
            }
        }

        impl $name {
            /// Reads the function's environment; the error names the first variable that is
            /// missing or malformed.
            pub fn from_env() -> Result<Self, EnvError> {
                Self::from_lookup(|name| std::env::var(name).ok())
            }

            /// Reads the variables through `lookup` (the process environment, a deployed
            /// function's configuration, a test's map).
            pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
                Ok($name { $( $field: environment!(@read lookup, $kind, $variable, $shape), )* })
            }
        }
    };
}

environment! {
    /// The api function: commands, reads and `/health`.
    ApiEnvironment {
        /// The app name (metrics namespace).
        app_name: Required = "APP_NAME" as Name;
        /// The event log table.
        event_log_table: Required = "EVENT_LOG_TABLE" as Name;
        /// This region's replica stream of the event log (`/health` describes it).
        event_log_stream_arn: Required = "EVENT_LOG_STREAM_ARN" as Arn;
        /// The idempotency table (command records).
        idempotency_table: Required = "IDEMPOTENCY_TABLE" as Name;
        /// The drill flag, `/<app>/drill/<region>`.
        drill_parameter: Required = "DRILL_PARAMETER" as Path;
        /// The read model reads come from, when the app has one.
        read_model_table: Optional = "READ_MODEL_TABLE" as Name;
    }
}

environment! {
    /// The publisher: the event log's stream → the region's Kinesis stream.
    PublisherEnvironment {
        /// The app name (metrics namespace).
        app_name: Required = "APP_NAME" as Name;
        /// The region's Kinesis stream.
        event_stream_name: Required = "EVENT_STREAM_NAME" as Name;
        /// Where overwritten local events are reported.
        conflicts_queue_url: Required = "CONFLICTS_QUEUE_URL" as Url;
        /// The idempotency table, where the publisher keeps its poison holds.
        idempotency_table: Required = "IDEMPOTENCY_TABLE" as Name;
    }
}

environment! {
    /// The audit projector: Kinesis → one S3 object per event.
    AuditProjectorEnvironment {
        /// The app name (metrics namespace).
        app_name: Required = "APP_NAME" as Name;
        /// The audit bucket.
        audit_bucket: Required = "AUDIT_BUCKET" as Name;
    }
}

environment! {
    /// The view projector: Kinesis → the read model.
    ViewProjectorEnvironment {
        /// The app name (metrics namespace).
        app_name: Required = "APP_NAME" as Name;
        /// The read-model table.
        view_table: Required = "VIEW_TABLE" as Name;
        /// The event log, read to close gaps and to rebuild a view after a conflict.
        event_log_table: Required = "EVENT_LOG_TABLE" as Name;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashMap;

    fn api(read_model: Option<&str>) -> ApiEnvironment {
        ApiEnvironment {
            app_name: "orders".into(),
            event_log_table: "orders-events".into(),
            event_log_stream_arn: "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-events/stream/x".into(),
            idempotency_table: "orders-idempotency".into(),
            drill_parameter: "/orders/drill/eu-west-1".into(),
            read_model_table: read_model.map(str::to_owned),
        }
    }

    fn lookup(variables: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<&str, String> = variables.into_iter().collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn what_the_stack_writes_the_function_reads_back() {
        for environment in [api(Some("orders-view-tasks")), api(None)] {
            let read = ApiEnvironment::from_lookup(lookup(environment.clone().into_variables())).unwrap();
            assert_eq!(read, environment);
        }
        assert_eq!(api(None).into_variables().len(), 5, "an absent optional variable is not written");
        let publisher = PublisherEnvironment {
            app_name: "orders".to_owned(),
            event_stream_name: "orders-events".to_owned(),
            conflicts_queue_url: "https://sqs.eu-west-1.amazonaws.com/123456789012/q".to_owned(),
            idempotency_table: "orders-idempotency".to_owned(),
        };
        let read = PublisherEnvironment::from_lookup(lookup(publisher.clone().into_variables())).unwrap();
        assert_eq!(read, publisher);
    }

    #[test]
    fn a_missing_variable_is_named_with_who_sets_it() {
        let mut variables = api(None).into_variables();
        variables.retain(|(name, _)| *name != "IDEMPOTENCY_TABLE");
        let error = ApiEnvironment::from_lookup(lookup(variables)).unwrap_err();
        assert_eq!(error, EnvError::Missing { variable: "IDEMPOTENCY_TABLE" });
        assert!(error.to_string().contains("region stack"), "{error}");
        let empty = ViewProjectorEnvironment::from_lookup(|_| Some(String::new())).unwrap_err();
        assert_eq!(empty, EnvError::Missing { variable: "APP_NAME" });
    }

    #[test]
    fn a_malformed_variable_is_named_with_what_it_should_be() {
        let mut variables = api(None).into_variables();
        for (name, value) in &mut variables {
            if *name == "EVENT_LOG_STREAM_ARN" {
                *value = "orders-events".into();
            }
        }
        let error = ApiEnvironment::from_lookup(lookup(variables)).unwrap_err();
        assert!(matches!(&error, EnvError::Invalid { variable: "EVENT_LOG_STREAM_ARN", .. }), "{error}");
        assert!(error.to_string().contains("arn:"), "{error}");
        for (shape, bad) in
            [(Shape::Name, "has space"), (Shape::Url, "sqs.amazonaws.com/q"), (Shape::Path, "orders/drill")]
        {
            assert!(shape.check(bad).is_err(), "{shape:?} {bad}");
        }
    }
}
