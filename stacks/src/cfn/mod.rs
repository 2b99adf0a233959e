//! Typed CloudFormation: the template model, intrinsics, validation and one L1 module per AWS
//! service. L1 structs mirror CloudFormation exactly, field names included (`StreamARN`), so a
//! property can be looked up in the AWS documentation by the name used here.

pub mod apigatewayv2;
pub mod cloudwatch;
pub mod dynamodb;
pub mod expr;
pub mod iam;
pub mod kinesis;
pub mod kms;
pub mod lambda;
pub mod logs;
pub mod route53;
pub mod s3;
pub mod sns;
pub mod sqs;
pub mod template;
pub mod validate;

pub use expr::{Expr, Pseudo};
pub use template::{
    DeletionPolicy, Export, Handle, Output, Parameter, ParameterRef, ReplacePolicy, ResourceOptions, ResourceType,
    ScannerSkip, Template,
};

/// A `Key`/`Value` tag, as most resource types take them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[allow(non_snake_case)]
pub struct Tag {
    /// Tag key.
    pub Key: String,
    /// Tag value.
    pub Value: Expr,
}

/// Declares an L1 resource struct: `resource!(Name, "AWS::Type", { fields })` derives the traits
/// every L1 type needs and ties it to its CloudFormation type name.
macro_rules! resource {
    ($(#[$meta:meta])* $name:ident, $type_name:literal, { $($body:tt)* }) => {
        $(#[$meta])*
        #[serde_with::skip_serializing_none]
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
        #[allow(non_snake_case)]
        pub struct $name { $($body)* }

        impl $crate::cfn::template::ResourceType for $name {
            const TYPE: &'static str = $type_name;
        }
    };
}

/// Declares an L1 property-type struct (a nested object of a resource's properties).
macro_rules! property {
    ($(#[$meta:meta])* $name:ident, { $($body:tt)* }) => {
        $(#[$meta])*
        #[serde_with::skip_serializing_none]
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
        #[allow(non_snake_case)]
        pub struct $name { $($body)* }
    };
}

/// Declares named attribute getters on a resource's handle, each attribute name written once.
macro_rules! attributes {
    ($type:ty { $($(#[$meta:meta])* $method:ident => $attribute:literal),+ $(,)? }) => {
        impl $crate::cfn::template::Handle<$type> {
            $(
                $(#[$meta])*
                pub fn $method(&self) -> $crate::cfn::Expr {
                    self.get_att($attribute)
                }
            )+
        }
    };
}

pub(crate) use {attributes, property, resource};
