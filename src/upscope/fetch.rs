//! The Workers implementation of `Transport`: the runtime's own Fetch API.

use worker::{Fetch, Headers, Method as FetchMethod, Request, RequestInit};

use super::client::{HttpRequest, HttpResponse, Transport, TransportError};

pub struct FetchTransport;

impl Transport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let headers = Headers::new();
        for (name, value) in &request.headers {
            headers.set(name, value).map_err(|_| TransportError)?;
        }
        let mut init = RequestInit::new();
        init.with_method(FetchMethod::from(request.method.as_str().to_owned())).with_headers(headers);
        if let Some(body) = request.body {
            init.with_body(Some(body.into()));
        }
        let outbound = Request::new_with_init(&request.url, &init).map_err(|_| TransportError)?;
        let mut response = Fetch::Request(outbound).send().await.map_err(|_| TransportError)?;
        let status = response.status_code();
        let retry_after = response.headers().get("Retry-After").ok().flatten();
        // An unreadable body is kept empty: the status alone still classifies the answer.
        let body = response.text().await.unwrap_or_default();
        Ok(HttpResponse { status, body, retry_after })
    }
}
