//! Synth-time checks: every reference resolves, names are valid, and the template fits
//! CloudFormation's limits. A dangling reference is a synth error, not a deploy error.

use super::expr::{PSEUDO_PARAMETERS, sub_placeholders};
use super::template::Template;
use serde_json::Value;
use std::collections::BTreeSet;

/// Largest `TemplateBody` CloudFormation accepts in a request; larger bodies go through S3.
pub const MAX_TEMPLATE_BODY_BYTES: usize = 51_200;
/// Largest template CloudFormation accepts from a `TemplateURL`.
pub const MAX_TEMPLATE_URL_BYTES: usize = 1_000_000;
/// Resources per template.
pub const MAX_RESOURCES: usize = 500;
/// Outputs per template.
pub const MAX_OUTPUTS: usize = 200;
/// Parameters per template.
pub const MAX_PARAMETERS: usize = 200;
/// Logical ID length limit.
pub const MAX_LOGICAL_ID_LEN: usize = 255;

/// What validation found wrong with one template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A name was declared twice.
    #[error("`{0}` is declared more than once; logical IDs must be unique within a template")]
    Duplicate(String),
    /// A logical ID is not alphanumeric or too long.
    #[error("logical ID `{0}` is invalid: use 1-255 ASCII letters and digits")]
    InvalidLogicalId(String),
    /// `Ref` to a name that is neither a parameter, a resource nor a pseudo parameter.
    #[error("`{from}` refers to `{target}`, which is not a parameter or resource of this template")]
    DanglingRef {
        /// Where the reference is.
        from: String,
        /// What it names.
        target: String,
    },
    /// `Fn::GetAtt` on a name that is not a resource.
    #[error("`{from}` reads `{target}.{attribute}`, but `{target}` is not a resource of this template")]
    DanglingGetAtt {
        /// Where the reference is.
        from: String,
        /// The missing resource.
        target: String,
        /// The attribute read.
        attribute: String,
    },
    /// `DependsOn` a missing resource.
    #[error("`{from}` depends on `{target}`, which is not a resource of this template")]
    DanglingDependsOn {
        /// The dependent resource.
        from: String,
        /// The missing resource.
        target: String,
    },
    /// `Fn::If` or `Condition` naming a missing condition.
    #[error("`{from}` uses condition `{target}`, which is not declared")]
    DanglingCondition {
        /// Where the condition is used.
        from: String,
        /// The missing condition.
        target: String,
    },
    /// A count limit is exceeded.
    #[error("{what}: {count} exceeds CloudFormation's limit of {limit}; split the stack")]
    TooMany {
        /// What is counted.
        what: &'static str,
        /// How many there are.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The template is too big even for a `TemplateURL`.
    #[error("template is {0} bytes, over the 1 MB TemplateURL limit; split the stack")]
    TooLarge(usize),
}

/// Size facts of a valid template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateStats {
    /// Number of resources.
    pub resources: usize,
    /// Bytes of the JSON body.
    pub bytes: usize,
    /// The body is over 51,200 bytes: the deployer must upload it and pass a `TemplateURL`.
    pub needs_template_url: bool,
}

/// Checks `template` and returns its size facts, or every problem found.
pub fn validate(template: &Template, body: &str) -> Result<TemplateStats, Vec<TemplateError>> {
    let mut errors: Vec<TemplateError> = template.duplicates().iter().cloned().map(TemplateError::Duplicate).collect();
    let resources: BTreeSet<&str> = template.resources().keys().map(String::as_str).collect();
    let parameters: BTreeSet<&str> = template.parameters().keys().map(String::as_str).collect();
    let conditions: BTreeSet<&str> = template.conditions().keys().map(String::as_str).collect();
    let names = Names { resources: &resources, parameters: &parameters, conditions: &conditions };

    let declared = resources.iter().chain(&parameters).chain(&conditions).copied();
    for id in declared.chain(template.outputs().keys().map(String::as_str)) {
        if !is_valid_logical_id(id) {
            errors.push(TemplateError::InvalidLogicalId(id.to_owned()));
        }
    }
    for (id, resource) in template.resources() {
        names.check(id, &resource.properties.to_json(), &mut errors);
        for target in &resource.depends_on {
            if !resources.contains(target.as_str()) {
                errors.push(TemplateError::DanglingDependsOn { from: id.clone(), target: target.clone() });
            }
        }
        if let Some(condition) = &resource.condition {
            names.check_condition(id, condition, &mut errors);
        }
    }
    for (name, output) in template.outputs() {
        names.check(name, &serde_json::to_value(output).unwrap_or_default(), &mut errors);
    }
    for (name, condition) in template.conditions() {
        names.check(name, &serde_json::to_value(condition).unwrap_or_default(), &mut errors);
    }
    check_count("resources", resources.len(), MAX_RESOURCES, &mut errors);
    check_count("outputs", template.outputs().len(), MAX_OUTPUTS, &mut errors);
    check_count("parameters", parameters.len(), MAX_PARAMETERS, &mut errors);
    if body.len() > MAX_TEMPLATE_URL_BYTES {
        errors.push(TemplateError::TooLarge(body.len()));
    }
    if errors.is_empty() {
        Ok(TemplateStats {
            resources: resources.len(),
            bytes: body.len(),
            needs_template_url: body.len() > MAX_TEMPLATE_BODY_BYTES,
        })
    } else {
        Err(errors)
    }
}

/// CloudFormation logical IDs are ASCII alphanumerics.
pub fn is_valid_logical_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_LOGICAL_ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn check_count(what: &'static str, count: usize, limit: usize, errors: &mut Vec<TemplateError>) {
    if count > limit {
        errors.push(TemplateError::TooMany { what, count, limit });
    }
}

/// The names a template declares, to resolve references against.
struct Names<'a> {
    resources: &'a BTreeSet<&'a str>,
    parameters: &'a BTreeSet<&'a str>,
    conditions: &'a BTreeSet<&'a str>,
}

impl Names<'_> {
    /// Walks the JSON form of a value, so exactly what will be sent is checked.
    fn check(&self, from: &str, value: &Value, errors: &mut Vec<TemplateError>) {
        match value {
            Value::Array(items) => items.iter().for_each(|item| self.check(from, item, errors)),
            Value::Object(map) if map.len() == 1 => {
                let Some((key, argument)) = map.iter().next() else {
                    return;
                };
                match (key.as_str(), argument) {
                    ("Ref", Value::String(target)) => self.check_ref(from, target, errors),
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        if let (Some(Value::String(target)), Some(Value::String(attribute))) =
                            (parts.first(), parts.get(1))
                        {
                            self.check_get_att(from, target, attribute, errors);
                        }
                    }
                    ("Fn::Sub", Value::String(template)) => self.check_sub(from, template, &[], errors),
                    ("Fn::Sub", Value::Array(parts)) => {
                        let variables: Vec<&str> = parts
                            .get(1)
                            .and_then(Value::as_object)
                            .map(|vars| vars.keys().map(String::as_str).collect())
                            .unwrap_or_default();
                        if let Some(Value::String(template)) = parts.first() {
                            self.check_sub(from, template, &variables, errors);
                        }
                        parts.iter().skip(1).for_each(|part| self.check(from, part, errors));
                    }
                    ("Fn::If", Value::Array(parts)) => {
                        if let Some(Value::String(condition)) = parts.first() {
                            self.check_condition(from, condition, errors);
                        }
                        parts.iter().skip(1).for_each(|part| self.check(from, part, errors));
                    }
                    ("Condition", Value::String(condition)) => self.check_condition(from, condition, errors),
                    _ => self.check(from, argument, errors),
                }
            }
            Value::Object(map) => map.values().for_each(|v| self.check(from, v, errors)),
            _ => {}
        }
    }

    fn check_ref(&self, from: &str, target: &str, errors: &mut Vec<TemplateError>) {
        let known =
            self.resources.contains(target) || self.parameters.contains(target) || PSEUDO_PARAMETERS.contains(&target);
        if !known {
            errors.push(TemplateError::DanglingRef { from: from.to_owned(), target: target.to_owned() });
        }
    }

    fn check_get_att(&self, from: &str, target: &str, attribute: &str, errors: &mut Vec<TemplateError>) {
        if !self.resources.contains(target) {
            errors.push(TemplateError::DanglingGetAtt {
                from: from.to_owned(),
                target: target.to_owned(),
                attribute: attribute.to_owned(),
            });
        }
    }

    fn check_sub(&self, from: &str, template: &str, variables: &[&str], errors: &mut Vec<TemplateError>) {
        for name in sub_placeholders(template).filter(|name| !variables.contains(name)) {
            match name.split_once('.') {
                Some((target, attribute)) => self.check_get_att(from, target, attribute, errors),
                None => self.check_ref(from, name, errors),
            }
        }
    }

    fn check_condition(&self, from: &str, condition: &str, errors: &mut Vec<TemplateError>) {
        if !self.conditions.contains(condition) {
            errors.push(TemplateError::DanglingCondition { from: from.to_owned(), target: condition.to_owned() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::expr::Expr;
    use crate::cfn::sqs::Queue;
    use crate::cfn::template::{Output, ResourceOptions};

    fn queue() -> Queue {
        Queue { SqsManagedSseEnabled: Some(true), ..Queue::default() }
    }

    #[test]
    fn dangling_ref_get_att_sub_and_depends_on_are_synth_errors() {
        let mut template = Template::new("test");
        let options = ResourceOptions { depends_on: vec!["Missing".into()], ..Default::default() };
        template.add_with("Queue", queue(), options);
        template.output("A", Output { description: "a".into(), value: Expr::Ref("Nope".into()), export: None });
        template.output(
            "B",
            Output { description: "b".into(), value: Expr::GetAtt("Ghost".into(), "Arn".into()), export: None },
        );
        template
            .output("C", Output { description: "c".into(), value: Expr::sub("${Queue.Arn}/${Gone}"), export: None });
        let body = template.to_json();
        let errors = validate(&template, &body).unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 4, "{text:#?}");
        assert!(text.iter().any(|e| e.contains("depends on `Missing`")));
        assert!(text.iter().any(|e| e.contains("refers to `Nope`")));
        assert!(text.iter().any(|e| e.contains("reads `Ghost.Arn`")));
        assert!(text.iter().any(|e| e.contains("refers to `Gone`")));
    }

    #[test]
    fn pseudo_parameters_and_sub_escapes_resolve() {
        let mut template = Template::new("test");
        template.add("Queue", queue());
        template.output(
            "A",
            Output {
                description: "a".into(),
                value: Expr::sub("${AWS::Region}-${!Literal}-${Queue.Arn}-${Queue}"),
                export: None,
            },
        );
        let body = template.to_json();
        let stats = validate(&template, &body).unwrap();
        assert_eq!(stats.resources, 1);
        assert!(!stats.needs_template_url);
    }

    #[test]
    fn duplicate_and_invalid_logical_ids_are_rejected() {
        let mut template = Template::new("test");
        template.add("Queue", queue());
        template.add("Queue", queue());
        template.add("Bad-Id", queue());
        let body = template.to_json();
        let errors = validate(&template, &body).unwrap_err();
        assert!(errors.contains(&TemplateError::Duplicate("Queue".into())));
        assert!(errors.contains(&TemplateError::InvalidLogicalId("Bad-Id".into())));
    }

    #[test]
    fn resource_count_over_the_limit_is_an_error() {
        let mut template = Template::new("test");
        for i in 0..=MAX_RESOURCES {
            template.add(format!("Queue{i}"), queue());
        }
        let body = template.to_json();
        let errors = validate(&template, &body).unwrap_err();
        assert!(errors.iter().any(|e| matches!(e, TemplateError::TooMany { what: "resources", .. })));
    }

    #[test]
    fn body_over_51200_bytes_is_flagged_for_template_url() {
        let mut template = Template::new("x".repeat(MAX_TEMPLATE_BODY_BYTES));
        template.add("Queue", queue());
        let body = template.to_json();
        assert!(validate(&template, &body).unwrap().needs_template_url);
    }
}
