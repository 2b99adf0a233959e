//! The `bootstrap` stack of each region: the assets bucket for function zips and large templates.

use crate::cfn::{Export, Expr, Output, Template};
use crate::config::AppConfig;
use crate::constructs::secure_bucket::{SecureBucket, SecureBucketProps};

/// Days an overwritten or deleted asset is kept (enough to roll back a deploy).
const OLD_ASSET_DAYS: u32 = 30;

/// Physical name of a region's assets bucket: `<app>-assets-<account>-<region>`, so the
/// deployer can compute it without reading the stack.
pub fn assets_bucket_name(app: &str) -> Expr {
    Expr::sub(format!("{app}-assets-${{AWS::AccountId}}-${{AWS::Region}}"))
}

/// Export name under which the bucket name is published in its region.
pub fn assets_bucket_export(app: &str) -> String {
    format!("{app}-assets-bucket")
}

pub(super) fn template(config: &AppConfig) -> Template {
    let mut template = Template::new(format!(
        "{} bootstrap: private, encrypted, TLS-only bucket for function code and templates over 51,200 bytes",
        config.app
    ));
    let bucket = SecureBucket::new(
        &mut template,
        "AssetsBucket",
        SecureBucketProps {
            bucket_name: Some(assets_bucket_name(&config.app)),
            lifecycle_rules: Vec::new(),
            noncurrent_version_days: OLD_ASSET_DAYS,
        },
    );
    template.output(
        "AssetsBucketName",
        Output {
            description: "Bucket for function zips and large templates".into(),
            value: bucket.name(),
            export: Some(Export { name: Expr::Str(assets_bucket_export(&config.app)) }),
        },
    );
    template
}
