//! The `bootstrap` stack of each region: the assets bucket for function zips and large templates.

use crate::cfn::{Expr, Output, Template};
use crate::config::AppConfig;
use crate::constructs::secure_bucket::{SecureBucket, SecureBucketProps};

/// Days an overwritten or deleted asset is kept (enough to roll back a deploy).
const OLD_ASSET_DAYS: u32 = 30;

/// Physical name of a region's assets bucket, `<app>-assets-<account>-<region>`: the deployer
/// computes it and passes it to the region stack, so nothing depends on cross-stack exports.
pub fn assets_bucket_physical_name(app: &str, account: &str, region: &str) -> String {
    format!("{app}-assets-{account}-{region}")
}

/// The same name inside the bootstrap template.
fn assets_bucket_name(app: &str) -> Expr {
    Expr::sub(assets_bucket_physical_name(app, "${AWS::AccountId}", "${AWS::Region}"))
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
            ..SecureBucketProps::default()
        },
    );
    template.output(
        "AssetsBucketName",
        Output {
            description: "Bucket for function zips and large templates".into(),
            value: bucket.name(),
            export: None,
        },
    );
    template
}
