//! `AWS::CloudWatch::*` resource types.

use super::{Expr, property, resource};

resource!(
    /// `AWS::CloudWatch::Alarm`.
    Alarm, "AWS::CloudWatch::Alarm", {
    /// Alarm name.
    pub AlarmName: Option<Expr>,
    /// What breaching means and what to do.
    pub AlarmDescription: Option<String>,
    /// Namespace, e.g. `AWS/Lambda`.
    pub Namespace: String,
    /// Metric name.
    pub MetricName: String,
    /// Dimensions.
    pub Dimensions: Vec<Dimension>,
    /// `Maximum`, `Sum`, ...
    pub Statistic: String,
    /// Seconds per datapoint.
    pub Period: u32,
    /// Datapoints evaluated.
    pub EvaluationPeriods: u32,
    /// Threshold.
    pub Threshold: f64,
    /// `GreaterThanOrEqualToThreshold` etc.
    pub ComparisonOperator: String,
    /// `notBreaching` etc.
    pub TreatMissingData: Option<String>,
    /// ARNs notified when the alarm goes to `ALARM` (an SNS topic must be in the alarm's region).
    pub AlarmActions: Option<Vec<Expr>>,
    /// ARNs notified when the alarm goes back to `OK`.
    pub OKActions: Option<Vec<Expr>>,
});

property!(
    /// `Dimension`.
    Dimension, {
    /// Dimension name.
    pub Name: String,
    /// Dimension value.
    pub Value: Expr,
});
