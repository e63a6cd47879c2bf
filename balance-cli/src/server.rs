//! The HTTP server both programs run, `balance serve` and `balance-mcp --listen`: an axum router
//! behind one accept loop that bounds what any client can hold.
//!
//! - A client has [`HEADER_TIMEOUT`] to send a request's headers, from the moment it connects
//!   or its previous answer went out: an idle or half-sent connection is closed then.
//! - An answer gets [`WRITE_TIMEOUT`] to make progress: a client that stops reading (or
//!   pipelines requests and never reads the answers) loses its connection, its slot and the
//!   answer's memory then.
//! - A connection buffers at most 16 KiB of pipelined requests and of unwritten answers.
//! - At most [`MAX_CONNECTIONS`] connections are open at once (fewer if the open-file limit
//!   cannot make room for them); the open-file soft limit is raised to the hard one first.
//! - A request body over [`MAX_BODY`] gets 413.
//! - SIGTERM or SIGINT (Ctrl-C elsewhere) stops accepting, and open connections get
//!   [`SHUTDOWN_GRACE`] to finish.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header::CONNECTION, header::CONTENT_LENGTH, header::HOST};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;

/// The largest request body read: a `get_balances` call with 100 SIDs is about 4 KiB.
pub const MAX_BODY: usize = 64 * 1024;
/// How long a client gets to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// What one connection buffers of its reads (pipelined requests) and of its unwritten answers:
/// hyper's own floor is 8 KiB, its default about 400 KiB.
const CONNECTION_BUFFER: usize = 16 * 1024;
/// Requests answered on one connection before it is closed (Apache's default is 100; a
/// Prometheus scrape or a browser reconnects at no cost).
const REQUESTS_PER_CONNECTION: usize = 32;
/// How long a write may wait for the client to read: a reader that never reads holds its
/// connection and the answer at most this long.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections open at once, at most; past it, new ones wait in the kernel's accept queue. Each
/// idle one costs about 9 KB.
pub const MAX_CONNECTIONS: usize = 4096;
/// File descriptors kept free of connections: requests to Twilio, secret files, the runtime.
const RESERVED_FDS: usize = 128;
/// Connections the kernel completes before the server accepts them (capped by somaxconn).
const LISTEN_BACKLOG: u32 = 4096;
/// How long connections get to finish after a stop signal: within the 2 s a supervisor is told
/// to expect, with room for the process to exit.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// A bound listener, with the stop signals already watched.
pub struct Server {
    listener: TcpListener,
    stop: Pin<Box<dyn Future<Output = ()> + Send>>,
    max_connections: usize,
}

impl Server {
    /// Listens on `address`. Signals are watched from here on, so one that comes while the
    /// caller announces the address is not missed.
    pub async fn bind(address: SocketAddr) -> Result<Self, String> {
        let stop = Box::pin(stop_requested()?);
        // As Go's runtime does: the soft limit a service manager gives (1,024) is no limit on
        // what the process may use, and idle clients must not exhaust it.
        let open_files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
        let room = usize::try_from(open_files).unwrap_or(usize::MAX);
        let listen = || {
            let socket = match address {
                SocketAddr::V4(_) => TcpSocket::new_v4()?,
                SocketAddr::V6(_) => TcpSocket::new_v6()?,
            };
            // A restart need not wait out TIME_WAIT; off Unix the same option would let another
            // process bind the port too.
            #[cfg(unix)]
            socket.set_reuseaddr(true)?;
            socket.bind(address)?;
            // std's (and so tokio's) default backlog of 128 fills in a burst of connections,
            // and each SYN dropped then costs its client a second.
            socket.listen(LISTEN_BACKLOG)
        };
        let listener = listen().map_err(|e| format!("cannot listen on {address}: {e}"))?;
        Ok(Self {
            listener,
            stop,
            max_connections: MAX_CONNECTIONS
                .min(room.saturating_sub(RESERVED_FDS))
                .max(1),
        })
    }

    /// The address it listens on (with the port the system picked for port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, String> {
        self.listener.local_addr().map_err(|e| e.to_string())
    }

    /// Serves `app` until a stop signal; then `on_stop` runs (to end long-lived streams) and
    /// connections get [`SHUTDOWN_GRACE`].
    pub async fn run(self, app: Router, on_stop: impl FnOnce()) {
        let app = app.layer(axum::middleware::from_fn(cap_body));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let slots = Arc::new(Semaphore::new(self.max_connections));
        let mut stop = self.stop;
        loop {
            let accepted = tokio::select! {
                _ = &mut stop => break,
                accepted = accept(&self.listener, &slots) => accepted,
            };
            let Some((stream, slot)) = accepted else {
                continue;
            };
            let service = at_most_requests(app.clone());
            let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
            stream.set_write_timeout(Some(WRITE_TIMEOUT));
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                // Pipelined requests wait in the kernel, not here: a connection buffers this
                // much of what it reads, and of the answers it has not yet written.
                .max_buf_size(CONNECTION_BUFFER)
                .serve_connection(hyper_util::rt::TokioIo::new(Box::pin(stream)), service);
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                let _ = connection.await;
                drop(slot);
            });
        }
        drop(self.listener);
        on_stop();
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    }
}

/// `app` for one connection, answering at most [`REQUESTS_PER_CONNECTION`] requests on it:
/// the last says `Connection: close`. A client that pipelines requests and never reads gets
/// that many answers, not as many as it sends.
fn at_most_requests(
    app: Router,
) -> impl hyper::service::Service<
    Request<hyper::body::Incoming>,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<Response, std::convert::Infallible>> + Send,
> {
    use hyper::service::Service as _;
    let service = hyper_util::service::TowerToHyperService::new(app);
    let served = std::sync::atomic::AtomicUsize::new(0);
    hyper::service::service_fn(move |request| {
        let count = served.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let answer = service.call(request);
        async move {
            let mut response = answer.await?;
            if count >= REQUESTS_PER_CONNECTION {
                let close = axum::http::HeaderValue::from_static("close");
                response.headers_mut().insert(CONNECTION, close);
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    })
}

/// The next connection, once a slot is free; `None` after a failed accept (e.g. out of file
/// descriptors), after a pause so that a persistent failure does not spin.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> Option<(tokio::net::TcpStream, tokio::sync::OwnedSemaphorePermit)> {
    // The semaphore is never closed.
    let slot = slots.clone().acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((stream, _)) => {
            // An event stream ends with small writes (the last event, the closing chunk); with
            // Nagle's algorithm each waits for the client's delayed ACK.
            let _ = stream.set_nodelay(true);
            Some((stream, slot))
        }
        Err(_) => {
            tokio::time::sleep(Duration::from_millis(50)).await;
            None
        }
    }
}

/// The names this machine goes by on loopback, for the `Host` and `Origin` checks.
pub fn loopback_hosts(listen: IpAddr) -> Vec<String> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"].map(String::from).into();
    let own = match listen {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    if listen.is_loopback() && !hosts.contains(&own) {
        hosts.push(own);
    }
    hosts
}

/// `app`, refusing with 403 any request whose one `Host` header does not name this machine's
/// loopback (with or without the port): a web page that rebinds a DNS name to 127.0.0.1
/// cannot read the answers. For a server listening on loopback.
pub fn loopback_host_only(app: Router, local: SocketAddr) -> Router {
    let allowed: Arc<Vec<String>> = Arc::new(
        (loopback_hosts(local.ip()).iter())
            .flat_map(|host| [host.clone(), format!("{host}:{}", local.port())])
            .collect(),
    );
    app.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let mut given = request.headers().get_all(HOST).iter();
            let ours = match (given.next().and_then(|h| h.to_str().ok()), given.next()) {
                (Some(host), None) => allowed.iter().any(|a| a.eq_ignore_ascii_case(host)),
                _ => false,
            };
            async move {
                match ours {
                    true => next.run(request).await,
                    false => (
                        StatusCode::FORBIDDEN,
                        "Forbidden: the Host header must name this machine's loopback\n",
                    )
                        .into_response(),
                }
            }
        },
    ))
}

/// 413 for a body declared over [`MAX_BODY`]; one that grows past it unannounced fails to read.
async fn cap_body(request: Request, next: Next) -> Response {
    let declared =
        (request.headers().get(CONTENT_LENGTH)).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY as u64) {
        let why = format!("Payload Too Large: a request body may hold {MAX_BODY} bytes\n");
        return (StatusCode::PAYLOAD_TOO_LARGE, why).into_response();
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, MAX_BODY)));
    next.run(request).await
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C off Unix).
fn stop_requested() -> Result<impl Future<Output = ()> + Send, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let register = |kind| signal(kind).map_err(|e| format!("cannot watch for signals: {e}"));
        let (mut term, mut interrupt) = (
            register(SignalKind::terminate())?,
            register(SignalKind::interrupt())?,
        );
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
