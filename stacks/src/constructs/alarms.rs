//! CloudWatch alarms on the signals that mean events are late or lost: publisher iterator age,
//! dead-letter queue depth, function errors, and the app's own counts of events that need a
//! look (conflicts settled by last-writer-wins, events held back behind a poison event).

use crate::cfn::cloudwatch::{Alarm, Dimension};
use crate::cfn::{Expr, Template};

/// Alarm when the publisher is this far behind its stream (milliseconds).
pub const ITERATOR_AGE_THRESHOLD_MS: f64 = 60_000.0;

fn alarm(
    name: String,
    description: &str,
    namespace: &str,
    metric: &str,
    dimension: (&str, Expr),
    statistic: &str,
) -> Alarm {
    Alarm {
        AlarmName: Some(Expr::Str(name)),
        AlarmDescription: Some(description.into()),
        Namespace: namespace.into(),
        MetricName: metric.into(),
        Dimensions: vec![Dimension { Name: dimension.0.into(), Value: dimension.1 }],
        Statistic: statistic.into(),
        Period: 60,
        EvaluationPeriods: 5,
        Threshold: 1.0,
        ComparisonOperator: "GreaterThanOrEqualToThreshold".into(),
        TreatMissingData: Some("notBreaching".into()),
        // Set for every alarm of a stack at once by `alerts::notify`.
        ..Alarm::default()
    }
}

/// The stream consumer `function` is more than a minute behind for five minutes.
pub fn iterator_age(template: &mut Template, id: &str, name: String, function: Expr) {
    let mut alarm = alarm(
        name,
        "Stream records wait over a minute for this function: events are published or projected late.",
        "AWS/Lambda",
        "IteratorAge",
        ("FunctionName", function),
        "Maximum",
    );
    alarm.Threshold = ITERATOR_AGE_THRESHOLD_MS;
    template.add(id, alarm);
}

/// A queue (conflicts) holds at least one message.
pub fn queue_depth(template: &mut Template, id: &str, name: String, queue_name: Expr) {
    let mut alarm = alarm(
        name,
        "Failed stream batches are waiting here; inspect them and run `cargo xtask redrive`.",
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        ("QueueName", queue_name),
        "Maximum",
    );
    alarm.EvaluationPeriods = 1;
    template.add(id, alarm);
}

/// What an [`app_metric`] alarm watches: a count the functions emit as Embedded Metric Format
/// lines (namespace = the app, one `Function` dimension).
#[derive(Debug, Clone, Copy)]
pub struct AppMetric<'a> {
    /// The namespace: the app name.
    pub namespace: &'a str,
    /// The `Function` dimension's value.
    pub function: &'a str,
    /// The metric name.
    pub metric: &'a str,
    /// What it means and what to do.
    pub description: &'a str,
}

/// The app's metric counted at least one event in a minute.
pub fn app_metric(template: &mut Template, id: &str, name: String, watched: AppMetric<'_>) {
    let dimension = (contract::metrics::FUNCTION_DIMENSION, Expr::Str(watched.function.to_owned()));
    let mut alarm = alarm(name, watched.description, watched.namespace, watched.metric, dimension, "Sum");
    alarm.EvaluationPeriods = 1;
    template.add(id, alarm);
}

/// `function` reported errors in five consecutive minutes.
pub fn function_errors(template: &mut Template, id: &str, name: String, function: Expr) {
    template.add(
        id,
        alarm(
            name,
            "The function failed in each of the last five minutes.",
            "AWS/Lambda",
            "Errors",
            ("FunctionName", function),
            "Sum",
        ),
    );
}
