//! Typed CloudFormation values and intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Sub`, ...).
//!
//! Every property value in the model is an [`Expr`]; the intrinsic functions are variants, so a
//! reference to a resource can be found (and checked) without parsing JSON.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::collections::BTreeMap;

/// A CloudFormation value: a literal or an intrinsic function. The default is `AWS::NoValue`,
/// so a forgotten required property fails the lint instead of becoming an empty string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Expr {
    /// A string literal.
    Str(String),
    /// An integer literal.
    Int(i64),
    /// A boolean literal.
    Bool(bool),
    /// A list of values.
    List(Vec<Expr>),
    /// An object with string keys (for free-form maps such as environment variables).
    Map(BTreeMap<String, Expr>),
    /// `{"Ref": name}`: a parameter, a resource or a pseudo parameter.
    Ref(String),
    /// `{"Fn::GetAtt": [logical_id, attribute]}`.
    GetAtt(String, String),
    /// `{"Fn::Sub": template}` or `{"Fn::Sub": [template, variables]}`.
    Sub(String, BTreeMap<String, Expr>),
    /// `{"Fn::Join": [separator, values]}`.
    Join(String, Vec<Expr>),
    /// `{"Fn::Select": [index, list]}`.
    Select(u32, Box<Expr>),
    /// `{"Fn::If": [condition, then, else]}`.
    If(String, Box<Expr>, Box<Expr>),
    /// `{"Fn::ImportValue": export_name}`.
    ImportValue(Box<Expr>),
    /// `{"Fn::Equals": [a, b]}` (only valid inside conditions).
    Equals(Box<Expr>, Box<Expr>),
    /// `{"Fn::Not": [condition]}` (only valid inside conditions).
    Not(Box<Expr>),
    /// `{"Ref": "AWS::NoValue"}` behaves like an absent property; kept as its own variant so
    /// `Fn::If` branches read naturally.
    #[default]
    NoValue,
}

/// The pseudo parameters CloudFormation defines in every template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pseudo {
    /// `AWS::AccountId`.
    AccountId,
    /// `AWS::Partition`.
    Partition,
    /// `AWS::Region`.
    Region,
    /// `AWS::StackName`.
    StackName,
    /// `AWS::URLSuffix`.
    UrlSuffix,
}

impl Pseudo {
    /// The name CloudFormation uses for this pseudo parameter.
    pub const fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::Region => "AWS::Region",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
        }
    }

    /// A `Ref` to this pseudo parameter.
    pub fn expr(self) -> Expr {
        Expr::Ref(self.name().to_owned())
    }
}

/// Names a `Ref` may use without a matching parameter or resource.
pub const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

impl Expr {
    /// A string literal.
    pub fn str(value: impl Into<String>) -> Expr {
        Expr::Str(value.into())
    }

    /// `Fn::Sub` without variables: `${Name}` and `${Name.Attr}` refer to the template's names.
    pub fn sub(template: impl Into<String>) -> Expr {
        Expr::Sub(template.into(), BTreeMap::new())
    }

    /// A list of string literals.
    pub fn strs<I, S>(values: I) -> Expr
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Expr::List(values.into_iter().map(|v| Expr::Str(v.into())).collect())
    }
}

/// The `${...}` placeholders of an `Fn::Sub` template, without the `${!literal}` escapes.
pub fn sub_placeholders(template: &str) -> impl Iterator<Item = &str> {
    template
        .split("${")
        .skip(1)
        .filter(|part| !part.starts_with('!'))
        .filter_map(|part| part.split_once('}').map(|(name, _)| name.trim()))
}

impl From<&str> for Expr {
    fn from(value: &str) -> Self {
        Expr::Str(value.to_owned())
    }
}

impl From<String> for Expr {
    fn from(value: String) -> Self {
        Expr::Str(value)
    }
}

impl From<i64> for Expr {
    fn from(value: i64) -> Self {
        Expr::Int(value)
    }
}

impl From<u32> for Expr {
    fn from(value: u32) -> Self {
        Expr::Int(i64::from(value))
    }
}

impl From<bool> for Expr {
    fn from(value: bool) -> Self {
        Expr::Bool(value)
    }
}

impl From<Pseudo> for Expr {
    fn from(value: Pseudo) -> Self {
        value.expr()
    }
}

fn single<S: Serializer, V: Serialize + ?Sized>(s: S, key: &str, value: &V) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Expr::Str(v) => s.serialize_str(v),
            Expr::Int(v) => s.serialize_i64(*v),
            Expr::Bool(v) => s.serialize_bool(*v),
            Expr::List(items) => items.serialize(s),
            Expr::Map(entries) => entries.serialize(s),
            Expr::Ref(name) => single(s, "Ref", name),
            Expr::NoValue => single(s, "Ref", "AWS::NoValue"),
            Expr::GetAtt(id, attribute) => single(s, "Fn::GetAtt", &[id, attribute]),
            Expr::Sub(template, variables) if variables.is_empty() => single(s, "Fn::Sub", template),
            Expr::Sub(template, variables) => single(s, "Fn::Sub", &(template, variables)),
            Expr::Join(separator, items) => single(s, "Fn::Join", &(separator, items)),
            Expr::Select(index, list) => single(s, "Fn::Select", &(index, list)),
            Expr::If(condition, then, otherwise) => single(s, "Fn::If", &(condition, then, otherwise)),
            Expr::ImportValue(name) => single(s, "Fn::ImportValue", name.as_ref()),
            Expr::Equals(a, b) => single(s, "Fn::Equals", &[a.as_ref(), b.as_ref()]),
            Expr::Not(condition) => single(s, "Fn::Not", &[condition.as_ref()]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn intrinsics_serialize_in_cloudformation_json_form() {
        let join = Expr::Join(":".into(), vec![Pseudo::Region.expr(), Expr::str("x")]);
        assert_eq!(serde_json::to_value(&join).unwrap(), json!({"Fn::Join": [":", [{"Ref": "AWS::Region"}, "x"]]}));
        let get_att = Expr::GetAtt("Queue".into(), "Arn".into());
        assert_eq!(serde_json::to_value(&get_att).unwrap(), json!({"Fn::GetAtt": ["Queue", "Arn"]}));
        let select = Expr::Select(0, Box::new(Expr::Ref("List".into())));
        assert_eq!(serde_json::to_value(&select).unwrap(), json!({"Fn::Select": [0, {"Ref": "List"}]}));
    }

    #[test]
    fn sub_placeholders_skip_literal_escapes() {
        let names: Vec<_> = sub_placeholders("${A}-${!Literal}-${B.Arn}").collect();
        assert_eq!(names, ["A", "B.Arn"]);
    }
}
