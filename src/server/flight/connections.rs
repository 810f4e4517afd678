//! The TCP connections of the Flight SQL endpoint: each frees its session
//! when it closes ([`Tracked`]), and with `--idle-timeout` a connection
//! that has had no call running for that long is closed, as the Postgres
//! port closes an idle session. A call counts from its start to the end of
//! its response stream ([`Active`]), so a long query is never idle; a gRPC
//! client opens a new connection (and so a new session) for its next call.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TcpConnectInfo};

use super::sessions::Sessions;

/// Calls running on one connection and when the last one ended.
#[derive(Debug)]
pub struct Activity {
    running: AtomicUsize,
    last: Mutex<Instant>,
}

impl Default for Activity {
    fn default() -> Self {
        Self { running: AtomicUsize::new(0), last: Mutex::new(Instant::now()) }
    }
}

impl Activity {
    /// Counts a call as running until the returned guard drops.
    pub fn start(self: &Arc<Self>) -> Active {
        self.running.fetch_add(1, Ordering::AcqRel);
        Active(Arc::clone(self))
    }

    /// When the connection becomes idle past `timeout`, or None while a call runs.
    fn idle_at(&self, timeout: Duration) -> Option<Instant> {
        if self.running.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some(*self.last.lock().expect("activity lock") + timeout)
    }
}

/// A running call; the connection is not idle while one exists.
#[derive(Debug)]
pub struct Active(Arc<Activity>);

impl Drop for Active {
    fn drop(&mut self) {
        *self.0.last.lock().expect("activity lock") = Instant::now();
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An accepted connection that frees its session when it closes and,
/// with an idle timeout, reads as closed once idle that long.
pub struct Tracked {
    inner: TcpStream,
    idle: Option<Idle>,
    _guard: CloseGuard,
}

struct Idle {
    timeout: Duration,
    timer: Pin<Box<Sleep>>,
    activity: Arc<Activity>,
    expired: bool,
}

impl Tracked {
    /// Tracks `socket` from `peer` in `sessions`; `idle_timeout` zero: never idle out.
    pub fn new(inner: TcpStream, peer: SocketAddr, sessions: &Arc<Sessions>, idle_timeout: Duration) -> Self {
        let activity = sessions.register(peer);
        let idle = (!idle_timeout.is_zero()).then(|| Idle {
            timeout: idle_timeout,
            timer: Box::pin(tokio::time::sleep(idle_timeout)),
            activity,
            expired: false,
        });
        Self { inner, idle, _guard: CloseGuard { sessions: Arc::downgrade(sessions), peer } }
    }
}

impl Idle {
    /// Whether the connection is now idle past its timeout (re-arming the
    /// timer otherwise, so the task wakes when it might be).
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        while !self.expired && self.timer.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            match self.activity.idle_at(self.timeout) {
                Some(at) if at <= now => self.expired = true,
                Some(at) => self.timer.as_mut().reset(at),
                None => self.timer.as_mut().reset(now + self.timeout),
            }
        }
        self.expired
    }
}

struct CloseGuard {
    sessions: Weak<Sessions>,
    peer: SocketAddr,
}

impl Drop for CloseGuard {
    fn drop(&mut self) {
        if let Some(sessions) = self.sessions.upgrade() {
            sessions.close(self.peer);
        }
    }
}

impl Connected for Tracked {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.inner.connect_info()
    }
}

impl AsyncRead for Tracked {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if let Some(idle) = &mut this.idle
            && idle.expired(cx)
        {
            // End of stream: the HTTP/2 connection closes and drops its session.
            tracing::debug!("closing an idle Flight SQL connection");
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_idle_only_with_no_call_running() {
        let activity = Arc::new(Activity::default());
        let timeout = Duration::from_secs(10);
        let (first, second) = (activity.start(), activity.start());
        assert_eq!(activity.idle_at(timeout), None);
        drop(first);
        assert_eq!(activity.idle_at(timeout), None, "one call still runs");
        let before = Instant::now();
        drop(second);
        let at = activity.idle_at(timeout).expect("idle once the last call ends");
        assert!(at >= before + timeout && at <= Instant::now() + timeout);
    }
}
