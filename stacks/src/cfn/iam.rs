//! `AWS::IAM::*` resource types and policy documents.

use super::{Expr, attributes, property, resource};
use std::collections::BTreeMap;

resource!(
    /// `AWS::IAM::Role`.
    Role, "AWS::IAM::Role", {
    /// Who may assume the role.
    pub AssumeRolePolicyDocument: PolicyDocument,
    /// What the role is for.
    pub Description: Option<String>,
    /// Inline policies.
    pub Policies: Option<Vec<Policy>>,
    /// Tags.
    pub Tags: Option<Vec<super::Tag>>,
});

attributes!(Role {
    /// The role ARN.
    arn => "Arn",
});

property!(
    /// An inline policy of a role.
    Policy, {
    /// Policy name, unique within the role.
    pub PolicyName: String,
    /// The document.
    pub PolicyDocument: PolicyDocument,
});

/// An IAM policy document (`Version` 2012-10-17).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[allow(non_snake_case)]
pub struct PolicyDocument {
    /// Always `2012-10-17`.
    pub Version: &'static str,
    /// The statements.
    pub Statement: Vec<Statement>,
}

impl Default for PolicyDocument {
    fn default() -> Self {
        PolicyDocument { Version: "2012-10-17", Statement: Vec::new() }
    }
}

impl PolicyDocument {
    /// A document holding `statements`.
    pub fn new(statements: Vec<Statement>) -> Self {
        PolicyDocument { Version: "2012-10-17", Statement: statements }
    }

    /// The trust policy that lets one AWS service assume a role.
    pub fn service_trust(service: &str) -> Self {
        PolicyDocument::new(vec![Statement {
            Principal: Some(Principal::service(service)),
            ..Statement::allow(&["sts:AssumeRole"], Vec::new())
        }])
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Effect {
    /// Grant.
    Allow,
    /// Refuse, overriding any grant.
    Deny,
}

/// One policy statement. Actions are always named (never `*`); see the construct tests.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[allow(non_snake_case)]
pub struct Statement {
    /// Statement ID.
    pub Sid: Option<String>,
    /// Allow or deny.
    pub Effect: Effect,
    /// Who (resource and trust policies only).
    pub Principal: Option<Principal>,
    /// The actions, each `service:Action`.
    pub Action: Vec<String>,
    /// The resources; empty for trust policies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub Resource: Vec<Expr>,
    /// Conditions by operator, then key.
    pub Condition: Option<BTreeMap<String, BTreeMap<String, Expr>>>,
}

impl Statement {
    /// `Allow` the named actions on the named resources.
    pub fn allow(actions: &[&str], resources: Vec<Expr>) -> Self {
        Statement {
            Sid: None,
            Effect: Effect::Allow,
            Principal: None,
            Action: actions.iter().map(|a| (*a).to_owned()).collect(),
            Resource: resources,
            Condition: None,
        }
    }
}

/// A statement principal.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[allow(non_snake_case)]
pub enum Principal {
    /// `{"Service": [...]}`.
    Service(Vec<Expr>),
    /// `{"AWS": ...}`: an account or `"*"` (everyone, used only in Deny statements).
    #[serde(rename = "AWS")]
    Aws(Expr),
}

impl Principal {
    /// One AWS service principal, e.g. `lambda.amazonaws.com`.
    pub fn service(service: impl Into<Expr>) -> Self {
        Principal::Service(vec![service.into()])
    }

    /// Every principal.
    pub fn everyone() -> Self {
        Principal::Aws(Expr::str("*"))
    }

    /// The stack's own account (`arn:<partition>:iam::<account>:root`): grants to it are
    /// delegated to the account's IAM policies.
    pub fn this_account() -> Self {
        Principal::Aws(Expr::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root"))
    }
}
