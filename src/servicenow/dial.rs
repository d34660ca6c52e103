//! Which requests needed a new connection: a connector layer for reqwest that counts every
//! connection dialled (TCP, and TLS on top) and marks the request that asked for it.
//!
//! hyper's pool asks the connector for a connection from inside the request's own future, when
//! no idle one is there; [`during`] scopes that future with a task-local flag which the layer sets.
//! A connection hyper dials in the background after an idle one turned up first is counted but
//! marks no request. Used by `-v` ("new connection" / "reused connection") and the WAN benchmark.

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

tokio::task_local! {
    static DIALLED: Cell<bool>;
}

/// Counts dials; shared by the layer and the client that reports them.
#[derive(Default)]
pub struct Dials(AtomicU64);

impl Dials {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The layer given to `reqwest::ClientBuilder::connector_layer`.
#[derive(Clone)]
pub struct CountDials(pub Arc<Dials>);

impl<S> tower_layer::Layer<S> for CountDials {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            dials: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Counted<S> {
    inner: S,
    dials: Arc<Dials>,
}

impl<S, R> tower_service::Service<R> for Counted<S>
where
    S: tower_service::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> S::Future {
        self.dials.0.fetch_add(1, Ordering::Relaxed);
        let _ = DIALLED.try_with(|d| d.set(true));
        self.inner.call(req)
    }
}

/// Runs `request` (a `send()` future) and says whether it dialled a new connection.
pub async fn during<T>(request: impl Future<Output = T>) -> (T, bool) {
    DIALLED
        .scope(Cell::new(false), async move {
            let out = request.await;
            (out, DIALLED.with(Cell::get))
        })
        .await
}
