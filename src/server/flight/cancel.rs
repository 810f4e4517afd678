//! Cancelling Flight SQL queries, as a client cancels on the Postgres port:
//! a client that drops its DoGet stream drops the running plan with it, and
//! `CancelFlightInfo` (or the older Flight SQL `CancelQuery` action) with
//! the FlightInfo of a query stops its stream with CANCELLED (SQLSTATE
//! 57014 in the message) and drops the scan, so no further Stripe calls are
//! made; the connection goes on serving. A query asked about before its
//! DoGet is forgotten, and its DoGet answers CANCELLED.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use arrow_flight::sql::{Any, Command, ProstMessageExt, TicketStatementQuery};
use arrow_flight::{CancelStatus, FlightData, FlightInfo};
use futures::channel::oneshot;
use futures::{Stream, StreamExt};
use prost::Message;
use tonic::Status;

/// Cancelled statements remembered for a DoGet that comes later; past this
/// many the oldest are forgotten.
const REMEMBERED: usize = 64;

/// A running stream: its id (a newer DoGet of the same ticket has another)
/// and the sender that cancels it.
type Stopper = (u64, oneshot::Sender<()>);

/// The running and cancelled queries of one connection, by ticket.
#[derive(Default)]
pub struct Running {
    streams: Mutex<HashMap<Vec<u8>, Stopper>>,
    cancelled: Mutex<VecDeque<Vec<u8>>>,
    next: std::sync::atomic::AtomicU64,
}

impl Running {
    /// Registers the stream answering `ticket`; it ends with CANCELLED when
    /// the ticket is cancelled, and is unregistered when it ends or is dropped.
    pub fn watch<S>(
        self: &Arc<Self>,
        ticket: Vec<u8>,
        stream: S,
    ) -> impl Stream<Item = Result<FlightData, Status>> + Send + use<S>
    where
        S: Stream<Item = Result<FlightData, Status>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.streams.lock().expect("running lock").insert(ticket.clone(), (id, tx));
        let guard = Unregister { running: Arc::clone(self), ticket, id };
        let state = (Some(Box::pin(stream)), Some(rx), guard);
        futures::stream::unfold(state, |(stream, mut cancel, guard)| async move {
            let mut stream = stream?;
            let next = match cancel.as_mut() {
                Some(rx) => tokio::select! {
                    biased;
                    fired = rx => match fired {
                        // Dropping the plan here, not when the client goes, stops the scan now.
                        Ok(()) => return Some((Err(cancelled()), (None, None, guard))),
                        Err(_) => {
                            cancel = None;
                            stream.next().await
                        }
                    },
                    item = stream.next() => item,
                },
                None => stream.next().await,
            };
            next.map(|item| (item, (Some(stream), cancel, guard)))
        })
    }

    /// Cancels the query `ticket` answers: its running stream, or, before
    /// its DoGet, the statement itself.
    pub fn cancel(&self, ticket: &[u8]) -> CancelStatus {
        if let Some((_, tx)) = self.streams.lock().expect("running lock").remove(ticket) {
            return match tx.send(()) {
                Ok(()) => CancelStatus::Cancelled,
                Err(()) => CancelStatus::NotCancellable,
            };
        }
        let mut cancelled = self.cancelled.lock().expect("cancelled lock");
        if cancelled.len() >= REMEMBERED {
            cancelled.pop_front();
        }
        cancelled.push_back(ticket.to_vec());
        CancelStatus::Cancelled
    }

    /// Whether `ticket` was cancelled before its DoGet (forgotten once asked).
    pub fn take_cancelled(&self, ticket: &[u8]) -> bool {
        let mut cancelled = self.cancelled.lock().expect("cancelled lock");
        match cancelled.iter().position(|t| t == ticket) {
            Some(i) => {
                cancelled.remove(i);
                true
            }
            None => false,
        }
    }
}

struct Unregister {
    running: Arc<Running>,
    ticket: Vec<u8>,
    id: u64,
}

impl Drop for Unregister {
    fn drop(&mut self) {
        let mut streams = self.running.streams.lock().expect("running lock");
        // A newer DoGet of the same ticket keeps its own entry.
        if streams.get(&self.ticket).is_some_and(|(id, _)| *id == self.id) {
            streams.remove(&self.ticket);
        }
    }
}

/// The status a cancelled query ends with.
pub fn cancelled() -> Status {
    Status::cancelled("canceling statement due to user request (SQLSTATE 57014)")
}

/// The tickets of the endpoints of `info`, the form DoGet receives them in.
pub fn tickets(info: &FlightInfo) -> Vec<Vec<u8>> {
    info.endpoint.iter().filter_map(|e| e.ticket.as_ref()).map(|t| t.ticket.to_vec()).collect()
}

/// The statement id inside a statement ticket (`id\nsql`), if it is one.
pub fn statement_id(ticket: &[u8]) -> Option<u64> {
    let any = Any::decode(ticket).ok()?;
    let Ok(Command::TicketStatementQuery(TicketStatementQuery { statement_handle })) = Command::try_from(any) else {
        return None;
    };
    let text = std::str::from_utf8(&statement_handle).ok()?;
    text.split_once('\n')?.0.parse().ok()
}

/// A statement ticket, encoded as DoGet receives it.
pub fn statement_ticket(id: u64, sql: &str) -> Vec<u8> {
    TicketStatementQuery { statement_handle: format!("{id}\n{sql}").into_bytes().into() }.as_any().encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: u8) -> Result<FlightData, Status> {
        Ok(FlightData { data_body: vec![n].into(), ..Default::default() })
    }

    #[tokio::test]
    async fn a_cancelled_stream_ends_with_cancelled_and_drops_its_source() {
        let running = Arc::new(Running::default());
        let (tx, rx) = futures::channel::mpsc::unbounded();
        tx.unbounded_send(data(1)).unwrap();
        let mut stream = Box::pin(running.watch(b"t".to_vec(), rx));
        assert_eq!(stream.next().await.unwrap().unwrap().data_body[0], 1);
        assert_eq!(running.cancel(b"t"), CancelStatus::Cancelled);
        let err = stream.next().await.unwrap().unwrap_err();
        assert_eq!(err.code(), tonic::Code::Cancelled);
        assert!(err.message().contains("57014"));
        assert!(tx.unbounded_send(data(2)).is_err(), "the source was dropped at the cancel");
        assert!(stream.next().await.is_none());
        assert!(running.streams.lock().unwrap().is_empty());
    }

    #[test]
    fn a_statement_cancelled_before_its_fetch_is_remembered_once() {
        let running = Running::default();
        let ticket = statement_ticket(7, "select 1");
        assert_eq!(statement_id(&ticket), Some(7));
        assert_eq!(running.cancel(&ticket), CancelStatus::Cancelled);
        assert!(running.take_cancelled(&ticket));
        assert!(!running.take_cancelled(&ticket));
    }
}
