//! A local Lambda Runtime API (the part a function's runtime loop uses): hands out events on
//! `GET /2018-06-01/runtime/invocation/next` and takes the answers, noting when each arrives.

use crate::http::{Request, Response, serve};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc};

/// A function's answer to one event.
#[derive(Debug)]
pub struct Answer {
    pub at: Instant,
    pub ok: bool,
    pub body: Vec<u8>,
}

pub struct RuntimeApi {
    /// `host:port`, for `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    events: mpsc::UnboundedSender<Vec<u8>>,
    polls: mpsc::UnboundedReceiver<Instant>,
    answers: mpsc::UnboundedReceiver<Answer>,
}

const PREFIX: &str = "/2018-06-01/runtime";

impl RuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let (events, queued) = mpsc::unbounded_channel::<Vec<u8>>();
        let (poll, polls) = mpsc::unbounded_channel();
        let (answer, answers) = mpsc::unbounded_channel();
        let queued = Arc::new(Mutex::new(queued));
        let next_id = Arc::new(std::sync::atomic::AtomicU64::new(0));
        tokio::spawn(serve(listener, move |request: Request| {
            let (queued, poll, answer, next_id) = (queued.clone(), poll.clone(), answer.clone(), next_id.clone());
            async move {
                let now = Instant::now();
                let Some(path) = request.path.strip_prefix(PREFIX) else {
                    return Response::new(404, "text/plain", "not the runtime API");
                };
                match (request.method.as_str(), path) {
                    ("GET", "/invocation/next") => {
                        let _ = poll.send(now);
                        let Some(event) = queued.lock().await.recv().await else {
                            return Response::new(410, "text/plain", "no more events");
                        };
                        let id = next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let deadline =
                            SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + Duration::from_secs(30);
                        let mut response = Response::new(200, "application/json", event);
                        response.headers.extend([
                            ("Lambda-Runtime-Aws-Request-Id", format!("bench-{id}")),
                            ("Lambda-Runtime-Deadline-Ms", deadline.as_millis().to_string()),
                            (
                                "Lambda-Runtime-Invoked-Function-Arn",
                                "arn:aws:lambda:us-east-1:000000000000:function:bench".into(),
                            ),
                            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0".into()),
                        ]);
                        response
                    }
                    ("POST", path) if path.starts_with("/invocation/") => {
                        let ok = path.ends_with("/response");
                        let _ = answer.send(Answer { at: now, ok, body: request.body });
                        Response::new(202, "application/json", r#"{"status":"OK"}"#)
                    }
                    ("POST", "/init/error") => {
                        let _ = answer.send(Answer { at: now, ok: false, body: request.body });
                        Response::new(202, "application/json", r#"{"status":"OK"}"#)
                    }
                    _ => Response::new(404, "text/plain", "unknown runtime API path"),
                }
            }
        }));
        Ok(Self { address, events, polls, answers })
    }

    /// When the function next asks for work (its first poll marks the end of its initialisation).
    pub async fn next_poll(&mut self, limit: Duration) -> Option<Instant> {
        tokio::time::timeout(limit, self.polls.recv()).await.ok().flatten()
    }

    /// Hands the function `event` and waits for its answer: (answer, latency from handing it over).
    pub async fn invoke(&mut self, event: &[u8], limit: Duration) -> Option<(Answer, Duration)> {
        let sent = Instant::now();
        self.events.send(event.to_vec()).ok()?;
        let answer = tokio::time::timeout(limit, self.answers.recv()).await.ok().flatten()?;
        let latency = answer.at.saturating_duration_since(sent);
        Some((answer, latency))
    }
}
