//! An HTTP request as API Gateway's HTTP API hands it to a Lambda proxy integration, payload
//! format version 2.0, and the function's answer back as an HTTP response. The fields and rules
//! are those of the API Gateway developer guide, "Create AWS Lambda proxy integrations for HTTP
//! APIs in API Gateway" (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>):
//!
//! - request: `version` "2.0", `routeKey` (the matched route, e.g. `POST /tasks/{id}/commands`),
//!   `rawPath`, `rawQueryString`, `cookies`, `headers` (names lower-case, duplicates joined with
//!   commas), `queryStringParameters` (duplicates joined with commas), `pathParameters`,
//!   `requestContext` (`accountId`, `apiId`, `domainName`, `domainPrefix`, `http` {`method`,
//!   `path`, `protocol`, `sourceIp`, `userAgent`}, `requestId`, `routeKey`, `stage` `$default`,
//!   `time`, `timeEpoch`), `body` and `isBase64Encoded` (text bodies as they are, others base64);
//! - response: an object with `statusCode` is taken as `statusCode`, `headers`,
//!   `multiValueHeaders`, `cookies` (each a `set-cookie` header), `body`, `isBase64Encoded`; any
//!   other valid JSON is "200, content-type application/json, the JSON as the body".

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;
use base64::Engine;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// What API Gateway knows about a request besides the request itself.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The account (`requestContext.accountId`).
    pub account_id: String,
    /// The API's id (`requestContext.apiId`, also the domain prefix).
    pub api_id: String,
    /// The host the client called (`requestContext.domainName`).
    pub domain_name: String,
    /// The client's address.
    pub source_ip: String,
    /// A unique id for this request.
    pub request_id: String,
    /// When the request arrived.
    pub time: OffsetDateTime,
}

/// An HTTP request, as read off the connection.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, without `?` (empty when none).
    pub query: String,
    /// `HTTP/1.1`.
    pub protocol: String,
    /// Headers in arrival order (names as sent).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// An HTTP response to write back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Headers (a name may repeat, e.g. `set-cookie`).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// The route of `routes` (route keys such as `GET /tasks/{id}`) that `method` and `path` match,
/// with its path parameters; `None` when no route matches (API Gateway answers 404).
pub fn match_route(routes: &[String], method: &str, path: &str) -> Option<(String, BTreeMap<String, String>)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    routes.iter().find_map(|route| {
        let (route_method, template) = route.split_once(' ')?;
        if route_method != method && route_method != "ANY" {
            return None;
        }
        let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
        if parts.len() != segments.len() {
            return None;
        }
        let mut parameters = BTreeMap::new();
        for (part, segment) in parts.iter().zip(&segments) {
            match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if !segment.is_empty() => {
                    parameters.insert(name.to_owned(), (*segment).to_owned());
                }
                Some(_) => return None,
                None if part == segment => {}
                None => return None,
            }
        }
        Some((route.clone(), parameters))
    })
}

/// Whether API Gateway passes a body of this content type as text (else base64).
fn is_text(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else { return true };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence.starts_with("text/")
        || essence == "application/json"
        || essence.ends_with("+json")
        || essence == "application/xml"
        || essence == "application/x-www-form-urlencoded"
}

/// Joins duplicates with commas, as format 2.0 does for headers and query parameters.
fn joined(pairs: impl Iterator<Item = (String, String)>) -> Map<String, Value> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in pairs {
        map.entry(name).and_modify(|v| *v = format!("{v},{value}")).or_insert(value);
    }
    map.into_iter().map(|(k, v)| (k, Value::String(v))).collect()
}

/// The format 2.0 event for `request` on `route` with its path parameters.
pub fn request_event(
    request: &HttpRequest,
    route: &str,
    path_parameters: &BTreeMap<String, String>,
    context: &RequestContext,
) -> Value {
    let lower: Vec<(String, String)> =
        request.headers.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.clone())).collect();
    let header = |name: &str| lower.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let cookies: Vec<String> = lower
        .iter()
        .filter(|(name, _)| name == "cookie")
        .flat_map(|(_, value)| value.split(';').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()))
        .collect();
    let headers = joined(lower.iter().filter(|(name, _)| name != "cookie").cloned());
    let query = joined(url_pairs(&request.query));
    let text = is_text(header("content-type"));
    let body = (!request.body.is_empty()).then(|| {
        if text {
            String::from_utf8_lossy(&request.body).into_owned()
        } else {
            base64::engine::general_purpose::STANDARD.encode(&request.body)
        }
    });
    let mut event = json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": context_json(request, route, context, header("user-agent").unwrap_or_default()),
        "isBase64Encoded": !text && body.is_some(),
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = json!(path_parameters);
    }
    if let Some(body) = body {
        event["body"] = Value::String(body);
    }
    event
}

/// `requestContext` of the event.
fn context_json(request: &HttpRequest, route: &str, context: &RequestContext, user_agent: &str) -> Value {
    let time = context.time;
    let clock = time::macros::format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000");
    json!({
        "accountId": context.account_id,
        "apiId": context.api_id,
        "domainName": context.domain_name,
        "domainPrefix": context.api_id,
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.protocol,
            "sourceIp": context.source_ip,
            "userAgent": user_agent,
        },
        "requestId": context.request_id,
        "routeKey": route,
        "stage": "$default",
        "time": time.format(clock).unwrap_or_default(),
        "timeEpoch": i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or_default(),
    })
}

/// Query pairs, percent-decoded (`+` is a space).
fn url_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(name), percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let hex = |byte: u8| char::from(byte).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped =
            (bytes[i] == b'%').then(|| Some(hex(*bytes.get(i + 1)?)? * 16 + hex(*bytes.get(i + 2)?)?)).flatten();
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (byte, None) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The HTTP response for the function's answer `payload` (format 2.0 rules above); a payload
/// that is not JSON is a 500, as API Gateway answers a malformed integration response.
pub fn response_from(payload: &[u8]) -> HttpResponse {
    let Ok(mut value) = serde_json::from_slice::<Value>(payload) else {
        return internal_error();
    };
    if value.get("statusCode").is_none() {
        return HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        };
    }
    // Every field but `statusCode` may be left out; the type wants `cookies`.
    if let Some(object) = value.as_object_mut() {
        object.entry("cookies").or_insert_with(|| json!([]));
    }
    let Ok(response) = serde_json::from_value::<ApiGatewayV2httpResponse>(value) else {
        return internal_error();
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in &response.headers {
        headers.push((name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()));
    }
    for name in response.multi_value_headers.keys() {
        for value in response.multi_value_headers.get_all(name) {
            headers.push((name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()));
        }
    }
    headers.extend(response.cookies.iter().map(|cookie| ("set-cookie".to_owned(), cookie.clone())));
    let body = match response.body {
        Some(Body::Text(text)) if response.is_base64_encoded => {
            base64::engine::general_purpose::STANDARD.decode(text.as_bytes()).unwrap_or_default()
        }
        Some(Body::Text(text)) => text.into_bytes(),
        Some(Body::Binary(bytes)) => bytes,
        Some(Body::Empty) | None => Vec::new(),
        Some(_) => Vec::new(),
    };
    let status = u16::try_from(response.status_code).unwrap_or(500);
    HttpResponse { status, headers, body }
}

/// API Gateway's answer when the integration fails: 500 `{"message":"Internal Server Error"}`.
pub fn internal_error() -> HttpResponse {
    json_response(500, &json!({"message": "Internal Server Error"}))
}

/// API Gateway's answer when no route matches: 404 `{"message":"Not Found"}`.
pub fn not_found() -> HttpResponse {
    json_response(404, &json!({"message": "Not Found"}))
}

fn json_response(status: u16, body: &Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::apigw::ApiGatewayV2httpRequest;

    fn routes() -> Vec<String> {
        ["POST /tasks", "POST /tasks/{id}/commands", "GET /tasks/{id}", "GET /health"].map(String::from).to_vec()
    }

    fn context() -> RequestContext {
        RequestContext {
            account_id: "123456789012".into(),
            api_id: "local-eu-west-1".into(),
            domain_name: "127.0.0.1:8080".into(),
            source_ip: "127.0.0.1".into(),
            request_id: "r-1".into(),
            time: OffsetDateTime::from_unix_timestamp(1_649_597_405).expect("time"),
        }
    }

    #[test]
    fn routes_match_by_method_and_template_with_path_parameters() {
        let (route, parameters) = match_route(&routes(), "POST", "/tasks/t-1/commands").expect("matched");
        assert_eq!(route, "POST /tasks/{id}/commands");
        assert_eq!(parameters["id"], "t-1");
        assert_eq!(match_route(&routes(), "GET", "/health").expect("health").0, "GET /health");
        assert!(match_route(&routes(), "DELETE", "/tasks/t-1").is_none());
        assert!(match_route(&routes(), "GET", "/tasks//").is_none());
        assert!(match_route(&routes(), "GET", "/nothing").is_none());
    }

    #[test]
    fn a_request_becomes_the_documented_format_2_0_event_that_the_functions_type_reads() {
        let request = HttpRequest {
            method: "POST".into(),
            path: "/tasks/t-1/commands".into(),
            query: "a=1&a=2&b=x%20y".into(),
            protocol: "HTTP/1.1".into(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("X-Multi".into(), "1".into()),
                ("x-multi".into(), "2".into()),
                ("Cookie".into(), "c1=a; c2=b".into()),
                ("User-Agent".into(), "curl/8".into()),
            ],
            body: br#"{"type":"complete"}"#.to_vec(),
        };
        let (route, parameters) = match_route(&routes(), "POST", &request.path).expect("matched");
        let event = request_event(&request, &route, &parameters, &context());
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["routeKey"], "POST /tasks/{id}/commands");
        assert_eq!(event["rawQueryString"], "a=1&a=2&b=x%20y");
        assert_eq!(event["queryStringParameters"], json!({"a": "1,2", "b": "x y"}));
        assert_eq!(event["headers"]["x-multi"], "1,2");
        assert!(event["headers"].get("cookie").is_none());
        assert_eq!(event["cookies"], json!(["c1=a", "c2=b"]));
        assert_eq!(event["requestContext"]["http"]["userAgent"], "curl/8");
        assert_eq!(event["requestContext"]["stage"], "$default");
        assert_eq!(event["requestContext"]["time"], "10/Apr/2022:13:30:05 +0000");
        assert_eq!(event["requestContext"]["timeEpoch"], 1_649_597_405_000_i64);
        assert_eq!(event["isBase64Encoded"], false);
        let typed: ApiGatewayV2httpRequest = serde_json::from_value(event).expect("the function's type reads it");
        assert_eq!(typed.route_key.as_deref(), Some("POST /tasks/{id}/commands"));
        assert_eq!(typed.raw_path.as_deref(), Some("/tasks/t-1/commands"));
        assert_eq!(typed.path_parameters["id"], "t-1");
        assert_eq!(typed.request_context.http.method, "POST");
        assert_eq!(typed.body.as_deref(), Some(r#"{"type":"complete"}"#));
    }

    #[test]
    fn binary_bodies_are_base64_and_text_bodies_are_not() {
        let request = HttpRequest {
            method: "POST".into(),
            path: "/tasks".into(),
            headers: vec![("content-type".into(), "application/octet-stream".into())],
            body: vec![0, 159, 146, 150],
            ..HttpRequest::default()
        };
        let event = request_event(&request, "POST /tasks", &BTreeMap::new(), &context());
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], "AJ+Slg==");
        assert!(event.get("pathParameters").is_none() && event.get("queryStringParameters").is_none());
    }

    #[test]
    fn responses_follow_the_function_or_default_to_200_json() {
        let answer = json!({"statusCode": 201, "headers": {"location": "/tasks/t-1"}, "cookies": ["s=1"],
            "body": "{\"id\":\"t-1\"}", "isBase64Encoded": false});
        let response = response_from(answer.to_string().as_bytes());
        assert_eq!(response.status, 201);
        assert!(response.headers.contains(&("location".into(), "/tasks/t-1".into())));
        assert!(response.headers.contains(&("set-cookie".into(), "s=1".into())));
        assert_eq!(response.body, br#"{"id":"t-1"}"#);
        let binary = json!({"statusCode": 200, "body": "aGk=", "isBase64Encoded": true});
        assert_eq!(response_from(binary.to_string().as_bytes()).body, b"hi");
        let plain = response_from(br#"{"hello":"world"}"#);
        assert_eq!((plain.status, plain.body), (200, br#"{"hello":"world"}"#.to_vec()));
        assert_eq!(response_from(b"not json").status, 500);
    }
}
