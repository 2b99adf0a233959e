//! Routing and responses of the HTTP API: commands go through the domain's command service,
//! reads come from the read model (or the event log), and every error becomes a JSON body with
//! a status that says whose fault it is.

use crate::health::Health;
use crate::request;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use domain::{Aggregate, CommandService, DomainError, Target, Task, TaskView, ViewStore, fold};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// The API and its dependencies.
#[derive(Debug, Clone)]
pub struct Api {
    /// Commands against the event log.
    pub commands: CommandService,
    /// The read model, if this deployment has one; reads fold the log otherwise.
    pub views: Option<ViewStore>,
    /// `/health`.
    pub health: Health,
}

/// A response: status, JSON body and extra headers.
fn respond(status: u16, body: &Value, extra: &[(&'static str, String)]) -> ApiGatewayV2httpResponse {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    for (name, value) in extra {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(*name, value);
        }
    }
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(status);
    response.headers = headers;
    response.body = Some(Body::Text(body.to_string()));
    response
}

/// The status and body of an error. Client mistakes are 4xx with the field to fix; storage
/// trouble is 503 (retry) or 500.
pub fn error_response(error: &DomainError) -> ApiGatewayV2httpResponse {
    let (status, field, code) = match error {
        DomainError::Invalid { field, .. } => (400, Some(field.as_str()), "invalid"),
        DomainError::NotFound { .. } => (404, Some("id"), "not_found"),
        DomainError::VersionConflict { .. } => (409, Some("expected_version"), "version_conflict"),
        DomainError::Rejected { .. } => (409, None, "rejected"),
        DomainError::CommandIdReused { .. } => (422, Some("command_id"), "command_id_reused"),
        DomainError::Replicating { .. } => (503, None, "replicating"),
        DomainError::Aws { retryable: true, .. } => (503, None, "unavailable"),
        DomainError::Malformed { .. } | DomainError::Aws { .. } | DomainError::Config(_) => (500, None, "internal"),
    };
    // Replication in flight is no fault to hide: say what is missing.
    let message = if status >= 500 && !matches!(error, DomainError::Replicating { .. }) {
        "the service could not complete the request; retry later".to_owned()
    } else {
        error.to_string()
    };
    let mut body = json!({"error": message, "field": field, "code": code});
    match error {
        DomainError::VersionConflict { actual, .. } => body["current_version"] = json!(actual),
        DomainError::Replicating { have, .. } => body["current_version"] = json!(have),
        _ => {}
    }
    let extra = if status == 503 { vec![("retry-after", "1".to_owned())] } else { Vec::new() };
    respond(status, &body, &extra)
}

/// The route of a request: the HTTP API's `routeKey`, or method and path when it is `$default`.
fn route(request: &ApiGatewayV2httpRequest) -> String {
    match request.route_key.as_deref() {
        Some(key) if key != "$default" => key.to_owned(),
        _ => {
            let method = request.request_context.http.method.as_str();
            let path = request.raw_path.as_deref().unwrap_or("/");
            let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
            let template = match parts.as_slice() {
                ["tasks"] => "/tasks".to_owned(),
                ["tasks", _] => "/tasks/{id}".to_owned(),
                ["tasks", _, "commands"] => "/tasks/{id}/commands".to_owned(),
                _ => path.to_owned(),
            };
            format!("{method} {template}")
        }
    }
}

impl Api {
    /// Answers one request; never fails (errors are responses).
    pub async fn handle(&self, request: &ApiGatewayV2httpRequest, now: OffsetDateTime) -> ApiGatewayV2httpResponse {
        let route = route(request);
        let result = match route.as_str() {
            "POST /tasks" => self.create(request, now).await,
            "POST /tasks/{id}/commands" => self.command(request, now).await,
            "GET /tasks/{id}" => self.read(request).await,
            "GET /health" => Ok(self.healthz().await),
            _ => Ok(respond(
                404,
                &json!({"error": format!("no route for {route}"), "field": null, "code": "no_route"}),
                &[],
            )),
        };
        let response = result.unwrap_or_else(|error| {
            if error.is_retryable() || matches!(error, DomainError::Malformed { .. } | DomainError::Config(_)) {
                tracing::error!(%error, route, "request failed");
            }
            error_response(&error)
        });
        tracing::info!(route, status = response.status_code, "request");
        response
    }

    async fn create(
        &self,
        request: &ApiGatewayV2httpRequest,
        now: OffsetDateTime,
    ) -> Result<ApiGatewayV2httpResponse, DomainError> {
        let command = request::create_task(request)?;
        let outcome = self.commands.execute::<Task>(Target::New, &command, now).await?;
        let body = json!({"id": outcome.aggregate_id, "version": outcome.version, "command_id": command.command_id});
        let location = format!("/tasks/{}", outcome.aggregate_id);
        Ok(respond(201, &body, &[("location", location), ("idempotent-replayed", outcome.replayed.to_string())]))
    }

    async fn command(
        &self,
        request: &ApiGatewayV2httpRequest,
        now: OffsetDateTime,
    ) -> Result<ApiGatewayV2httpResponse, DomainError> {
        let id = request::task_id(request)?;
        let command = request::task_command(request)?;
        let outcome = self.commands.execute::<Task>(Target::Existing(id), &command, now).await?;
        let body = json!({"id": outcome.aggregate_id, "version": outcome.version, "command_id": command.command_id});
        Ok(respond(200, &body, &[("idempotent-replayed", outcome.replayed.to_string())]))
    }

    /// From the read model when there is one and it has the task at `min_version` or later (it
    /// lags the log a little); otherwise from the event log, read consistently in this region.
    /// A `min_version` this region has not reached yet (the write was made in another region
    /// and is still replicating) is 503 with `Retry-After`, so a client can read its own write.
    async fn read(&self, request: &ApiGatewayV2httpRequest) -> Result<ApiGatewayV2httpResponse, DomainError> {
        let id = request::task_id(request)?;
        let min_version = request::min_version(request)?.unwrap_or(0);
        if let Some(views) = &self.views
            && let Some(stored) = views.get(&id, false).await?
            && stored.view.version >= min_version
        {
            return Ok(respond(200, &json!(stored.view), &[("x-read-source", "view".to_owned())]));
        }
        let key = domain::item::aggregate_key(Task::TYPE, &id);
        let items = self.commands.store().load(&key).await?;
        if items.is_empty() && min_version == 0 {
            return Err(DomainError::NotFound { aggregate: format!("task {id}") });
        }
        let folded = fold::<Task>(&items)?;
        if folded.version < min_version {
            return Err(DomainError::Replicating { aggregate: key, have: folded.version, want: min_version });
        }
        let view = TaskView::from_folded(&id, &folded);
        Ok(respond(200, &json!(view), &[("x-read-source", "log".to_owned())]))
    }

    async fn healthz(&self) -> ApiGatewayV2httpResponse {
        let report = self.health.check().await;
        if !report.healthy {
            tracing::warn!(report = %report.body, "health check failing");
        }
        respond(if report.healthy { 200 } else { 503 }, &report.body, &[])
    }
}
