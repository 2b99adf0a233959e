//! Readings of a deployed region: a stream consumer's iterator age from CloudWatch, a queue's depth
//! from SQS. Lambda emits `IteratorAge` (AWS/Lambda, dimension `FunctionName`, milliseconds) for
//! stream-based invocations only: the age of the last record of each batch when Lambda received it
//! (Lambda developer guide, "Working with Lambda function metrics").

use anyhow::{Context, Result};
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_sdk_sqs::types::QueueAttributeName;
use std::time::{Duration, SystemTime};

/// The Maximum of `AWS/Lambda` `IteratorAge` for `function_name` over the last `window`, via
/// `GetMetricData`; `None` when there is no datapoint (no batch was delivered in the window).
pub async fn iterator_age_ms(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    function_name: &str,
    window: Duration,
) -> Result<Option<f64>> {
    let end = SystemTime::now();
    let start = end.checked_sub(window).unwrap_or(SystemTime::UNIX_EPOCH);
    // A period that is a multiple of 60 s covering the window: one datapoint per query.
    let period = i32::try_from(window.as_secs().div_ceil(60).max(1) * 60).unwrap_or(i32::MAX);
    let metric = Metric::builder()
        .namespace("AWS/Lambda")
        .metric_name("IteratorAge")
        .dimensions(Dimension::builder().name("FunctionName").value(function_name).build())
        .build();
    let query = MetricDataQuery::builder()
        .id("age")
        .metric_stat(MetricStat::builder().metric(metric).period(period).stat("Maximum").build())
        .return_data(true)
        .build();
    let answer = cloudwatch
        .get_metric_data()
        .metric_data_queries(query)
        .start_time(start.into())
        .end_time(end.into())
        .send()
        .await
        .with_context(|| format!("reading the iterator age of {function_name} (CloudWatch GetMetricData)"))?;
    let values = answer.metric_data_results().iter().flat_map(|r| r.values().iter().copied());
    Ok(values.reduce(f64::max))
}

/// `ApproximateNumberOfMessages` + `ApproximateNumberOfMessagesNotVisible` of the queue.
pub async fn queue_depth(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<u64> {
    let answer = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .with_context(|| format!("reading the depth of {queue_url}"))?;
    let attributes = answer.attributes();
    let count = |name: QueueAttributeName| -> u64 {
        attributes.and_then(|a| a.get(&name)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    Ok(count(QueueAttributeName::ApproximateNumberOfMessages)
        + count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
}
