//! Turns request bodies and path parameters into validated commands. Every rejection names the
//! offending field, so bad input is always a 400 with `{"error", "field"}`, never a 500.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use base64::Engine;
use domain::envelope::is_safe_segment;
use domain::{CommandRequest, DomainError, TaskCommand, Title};
use serde_json::{Map, Value};

/// Longest command id accepted.
const MAX_COMMAND_ID: usize = 128;

/// The JSON object in the request body.
pub fn body_object(request: &ApiGatewayV2httpRequest) -> Result<Map<String, Value>, DomainError> {
    let raw = request.body.as_deref().unwrap_or_default();
    let text = if request.is_base64_encoded {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|_| DomainError::invalid("body", "is marked base64 but does not decode"))?;
        String::from_utf8(bytes).map_err(|_| DomainError::invalid("body", "must be UTF-8 JSON"))?
    } else {
        raw.to_owned()
    };
    if text.trim().is_empty() {
        return Err(DomainError::invalid("body", "a JSON object is required"));
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(DomainError::invalid("body", "must be a JSON object")),
        Err(e) => Err(DomainError::invalid("body", format!("is not valid JSON: {e}"))),
    }
}

/// The `{id}` path parameter: 1-128 characters of `A-Z a-z 0-9 . _ -`.
pub fn task_id(request: &ApiGatewayV2httpRequest) -> Result<String, DomainError> {
    let id = request
        .path_parameters
        .get("id")
        .cloned()
        .or_else(|| id_from_path(request.raw_path.as_deref().unwrap_or_default()))
        .ok_or_else(|| DomainError::invalid("id", "the task id is missing from the path"))?;
    if !is_safe_segment(&id) {
        return Err(DomainError::invalid("id", "must be 1-128 characters of A-Z a-z 0-9 . _ -"));
    }
    Ok(id)
}

fn id_from_path(path: &str) -> Option<String> {
    let mut parts = path.trim_matches('/').split('/');
    (parts.next() == Some("tasks")).then(|| parts.next().map(str::to_owned)).flatten()
}

fn reject_unknown(body: &Map<String, Value>, known: &[&str]) -> Result<(), DomainError> {
    match body.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => {
            Err(DomainError::invalid(unknown.clone(), format!("is not a known field (known: {})", known.join(", "))))
        }
        None => Ok(()),
    }
}

fn title(body: &Map<String, Value>) -> Result<Title, DomainError> {
    match body.get("title") {
        Some(Value::String(text)) => Title::parse(text),
        Some(_) => Err(DomainError::invalid("title", "must be a string")),
        None => Err(DomainError::invalid("title", "is required")),
    }
}

/// The command id from the body's `command_id` or the `Idempotency-Key` header (they must
/// agree), or a new UUIDv7 when the client sent neither.
fn command_id(request: &ApiGatewayV2httpRequest, body: &Map<String, Value>) -> Result<String, DomainError> {
    let from_body = match body.get("command_id") {
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return Err(DomainError::invalid("command_id", "must be a string")),
        None => None,
    };
    let from_header = request.headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let id = match (from_body, from_header) {
        (Some(body), Some(header)) if body != header => {
            return Err(DomainError::invalid("command_id", "differs from the Idempotency-Key header"));
        }
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => return Ok(uuid::Uuid::now_v7().to_string()),
    };
    let valid = (1..=MAX_COMMAND_ID).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'));
    if !valid {
        return Err(DomainError::invalid("command_id", "must be 1-128 characters of A-Z a-z 0-9 . _ - :"));
    }
    Ok(id)
}

fn expected_version(body: &Map<String, Value>) -> Result<Option<u64>, DomainError> {
    match body.get("expected_version") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .map(Some)
            .ok_or_else(|| DomainError::invalid("expected_version", "must be a non-negative integer")),
    }
}

/// `GET /tasks/{id}?min_version=v`: the version the answer must have reached, if given.
pub fn min_version(request: &ApiGatewayV2httpRequest) -> Result<Option<u64>, DomainError> {
    let Some(text) = request.query_string_parameters.first("min_version") else {
        return Ok(None);
    };
    match text.parse::<u64>() {
        Ok(version) if text.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(version)),
        _ => {
            Err(DomainError::invalid("min_version", "must be a non-negative integer (a version the task has reached)"))
        }
    }
}

/// `POST /tasks`: `{"title", "command_id"?}`.
pub fn create_task(request: &ApiGatewayV2httpRequest) -> Result<CommandRequest<TaskCommand>, DomainError> {
    let body = body_object(request)?;
    reject_unknown(&body, &["title", "command_id"])?;
    Ok(CommandRequest {
        command_id: command_id(request, &body)?,
        expected_version: None,
        command: TaskCommand::Create { title: title(&body)? },
    })
}

/// `POST /tasks/{id}/commands`: `{"type": "rename" | "complete" | "reopen", "title"?,
/// "expected_version"?, "command_id"?}`.
pub fn task_command(request: &ApiGatewayV2httpRequest) -> Result<CommandRequest<TaskCommand>, DomainError> {
    let body = body_object(request)?;
    let command = match body.get("type") {
        Some(Value::String(kind)) if kind == "rename" => {
            reject_unknown(&body, &["type", "title", "expected_version", "command_id"])?;
            TaskCommand::Rename { title: title(&body)? }
        }
        Some(Value::String(kind)) if kind == "complete" || kind == "reopen" => {
            reject_unknown(&body, &["type", "expected_version", "command_id"])?;
            if kind == "complete" { TaskCommand::Complete } else { TaskCommand::Reopen }
        }
        Some(_) => return Err(DomainError::invalid("type", "must be one of rename, complete, reopen")),
        None => return Err(DomainError::invalid("type", "is required (rename, complete or reopen)")),
    };
    Ok(CommandRequest { command_id: command_id(request, &body)?, expected_version: expected_version(&body)?, command })
}
