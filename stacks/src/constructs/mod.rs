//! CDK-style constructs (L2): each takes `(template, id, props)`, adds the L1 resources a
//! building block needs with safe defaults, and exposes typed accessors and `grant_*` methods.

pub mod alarms;
pub mod alerts;
pub mod dns;
pub mod event_log;
pub mod failed_batches;
pub mod function;
pub mod http_api;
pub mod key;
pub mod queue;
pub mod secure_bucket;
pub mod stream;
pub mod subscription;

/// `task-view` → `TaskView`: turns a configured name into a logical-ID fragment.
pub fn pascal_case(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// An ARN in the stack's own partition, region and account: `arn:…:<service>:<region>:<account>:<resource>`.
pub fn regional_arn(service: &str, resource: &str) -> crate::cfn::Expr {
    crate::cfn::Expr::sub(format!("arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn pascal_case_joins_dashed_words() {
        assert_eq!(super::pascal_case("task-view"), "TaskView");
        assert_eq!(super::pascal_case("audit"), "Audit");
        assert_eq!(super::pascal_case("a-b2-c"), "AB2C");
    }
}
