//! Readings of a region's health beyond CloudFormation: a stream consumer's iterator age
//! (CloudWatch `GetMetricData`) and a queue's depth (SQS `GetQueueAttributes`).

use anyhow::{Context, Result};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_sdk_sqs::types::QueueAttributeName;
use std::time::SystemTime;

/// The largest `AWS/Lambda` `IteratorAge` (milliseconds) of `function_name` over the last
/// `window`, or `None` when CloudWatch has no data point (no batch read in the window). Lambda
/// emits IteratorAge for stream event sources only: "the age of the last record in the event"
/// (Lambda developer guide, "Types of metrics for Lambda functions").
pub async fn iterator_age_ms(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    function_name: &str,
    window: std::time::Duration,
) -> Result<Option<f64>> {
    let end = SystemTime::now();
    let start = end - window;
    // A period must be a multiple of 60 for data older than three hours; one period spans the window.
    let period = i32::try_from(window.as_secs().div_ceil(60).max(1) * 60).unwrap_or(i32::MAX);
    let metric = Metric::builder()
        .namespace("AWS/Lambda")
        .metric_name("IteratorAge")
        .dimensions(Dimension::builder().name("FunctionName").value(function_name).build())
        .build();
    let query = MetricDataQuery::builder()
        .id("iteratorage")
        .metric_stat(MetricStat::builder().metric(metric).period(period).stat("Maximum").build())
        .return_data(true)
        .build();
    let mut pages = cloudwatch
        .get_metric_data()
        .metric_data_queries(query)
        .start_time(DateTime::from(start))
        .end_time(DateTime::from(end))
        .into_paginator()
        .send();
    let mut maximum: Option<f64> = None;
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| format!("reading the IteratorAge of {function_name} (GetMetricData)"))?;
        for value in page.metric_data_results().iter().flat_map(|r| r.values()) {
            maximum = Some(maximum.map_or(*value, |m| m.max(*value)));
        }
    }
    Ok(maximum)
}

/// Messages in the queue at `queue_url`, visible or in flight (`ApproximateNumberOfMessages` +
/// `ApproximateNumberOfMessagesNotVisible`).
pub async fn queue_depth(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<u64> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .with_context(|| format!("reading the depth of {queue_url} (GetQueueAttributes)"))?;
    let read = |name: QueueAttributeName| -> u64 {
        attributes.attributes().and_then(|a| a.get(&name)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    Ok(read(QueueAttributeName::ApproximateNumberOfMessages)
        + read(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
}
