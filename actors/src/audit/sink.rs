//! Audit sinks: where events go besides the persisted log and subscribers.
//!
//! Every sink runs on its own thread behind a bounded queue, so a slow or failing sink never
//! blocks requests, the audit actor, or other sinks. A full queue drops the event for that sink
//! and counts it; an error or a panic inside a sink is counted and logged, and the sink goes on
//! with the next event.

use std::{
    fmt,
    fs::{File, OpenOptions},
    io::{BufWriter, Write},
    panic::{catch_unwind, AssertUnwindSafe},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc::{sync_channel, SyncSender, TrySendError},
        Arc,
    },
    thread::JoinHandle,
};

use super::event::StoredEvent;

/// A failure inside a sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// Writing failed.
    #[error("sink I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Any other failure, described.
    #[error("sink failed: {0}")]
    Other(String),
}

/// A destination for audit events (Chirp's `set_security_event_sink`, but many at once).
///
/// ```
/// use warden_actors::{AuditSink, SinkError, StoredEvent};
///
/// struct Count(usize);
/// impl AuditSink for Count {
///     fn name(&self) -> &str { "count" }
///     fn write(&mut self, _ev: &StoredEvent) -> Result<(), SinkError> {
///         self.0 += 1;
///         Ok(())
///     }
/// }
/// ```
pub trait AuditSink: Send + 'static {
    /// A short name, used in counters and logs.
    fn name(&self) -> &str;
    /// Delivers one event.
    fn write(&mut self, event: &StoredEvent) -> Result<(), SinkError>;
    /// Called when the runtime shuts down; write out anything buffered.
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Writes every event to `tracing` at INFO, target `warden::audit`, as one JSON field.
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingSink;

impl AuditSink for TracingSink {
    fn name(&self) -> &str {
        "tracing"
    }
    fn write(&mut self, event: &StoredEvent) -> Result<(), SinkError> {
        tracing::info!(
            target: "warden::audit",
            event = %event.event.name,
            record = %event.to_json_line(),
            "security event"
        );
        Ok(())
    }
}

/// Appends every event as one JSON line to a file (created with mode 0600 on Unix).
#[derive(Debug)]
pub struct JsonLinesSink {
    path: PathBuf,
    out: BufWriter<File>,
}

impl JsonLinesSink {
    /// Opens (appending) or creates the file and its parent directories.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SinkError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut opts = OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(&path)?;
        Ok(Self {
            path,
            out: BufWriter::new(file),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AuditSink for JsonLinesSink {
    fn name(&self) -> &str {
        "jsonl"
    }
    fn write(&mut self, event: &StoredEvent) -> Result<(), SinkError> {
        self.out.write_all(event.to_json_line().as_bytes())?;
        self.out.write_all(b"\n")?;
        self.out.flush()?;
        Ok(())
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        self.out.flush()?;
        self.out.get_ref().sync_data()?;
        Ok(())
    }
}

/// A sink made from a closure.
///
/// ```
/// use warden_actors::FnSink;
///
/// let sink = FnSink::new("stdout", |ev| println!("{}", ev.to_json_line()));
/// # drop(sink);
/// ```
pub struct FnSink<F> {
    name: String,
    f: F,
}

impl<F> FnSink<F>
where
    F: FnMut(&StoredEvent) + Send + 'static,
{
    /// Wraps `f` under `name`.
    pub fn new(name: impl Into<String>, f: F) -> Self {
        Self {
            name: name.into(),
            f,
        }
    }
}

impl<F> fmt::Debug for FnSink<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnSink").field("name", &self.name).finish()
    }
}

impl<F> AuditSink for FnSink<F>
where
    F: FnMut(&StoredEvent) + Send + 'static,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn write(&mut self, event: &StoredEvent) -> Result<(), SinkError> {
        (self.f)(event);
        Ok(())
    }
}

/// Counters of one sink.
#[derive(Debug, Default)]
pub(crate) struct SinkCounters {
    pub(crate) delivered: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) failed: AtomicU64,
}

/// A snapshot of one sink's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SinkStats {
    /// The sink's name.
    pub name: String,
    /// Events written successfully.
    pub delivered: u64,
    /// Events dropped because the sink's queue was full.
    pub dropped: u64,
    /// Events whose write failed or panicked.
    pub failed: u64,
}

/// The audit actor's side of a sink thread.
#[derive(Debug)]
pub(crate) struct SinkWorker {
    pub(crate) name: String,
    tx: Option<SyncSender<Arc<StoredEvent>>>,
    pub(crate) counters: Arc<SinkCounters>,
    thread: Option<JoinHandle<()>>,
}

impl SinkWorker {
    /// Starts `sink` on its own thread with a queue of `capacity` events.
    pub(crate) fn spawn(mut sink: Box<dyn AuditSink>, capacity: usize) -> std::io::Result<Self> {
        let name = sink.name().to_owned();
        let (tx, rx) = sync_channel::<Arc<StoredEvent>>(capacity.max(1));
        let counters = Arc::new(SinkCounters::default());
        let c = counters.clone();
        let thread_name = name.clone();
        let thread = std::thread::Builder::new()
            .name(format!("warden-sink-{name}"))
            .spawn(move || {
                for ev in rx {
                    match catch_unwind(AssertUnwindSafe(|| sink.write(&ev))) {
                        Ok(Ok(())) => {
                            c.delivered.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Err(e)) => {
                            c.failed.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(sink = %thread_name, error = %e, "audit sink failed");
                        }
                        Err(_) => {
                            c.failed.fetch_add(1, Ordering::Relaxed);
                            tracing::error!(sink = %thread_name, "audit sink panicked");
                        }
                    }
                }
                if let Ok(Err(e)) = catch_unwind(AssertUnwindSafe(|| sink.flush())) {
                    tracing::warn!(sink = %thread_name, error = %e, "audit sink flush failed");
                }
            })?;
        Ok(Self {
            name,
            tx: Some(tx),
            counters,
            thread: Some(thread),
        })
    }

    /// Queues an event without blocking; a full or dead queue counts a drop.
    pub(crate) fn offer(&self, ev: &Arc<StoredEvent>) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(ev.clone()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn stats(&self) -> SinkStats {
        SinkStats {
            name: self.name.clone(),
            delivered: self.counters.delivered.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
        }
    }

    /// Closes the queue and waits for the thread to write out what it has and flush.
    pub(crate) fn close(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SinkWorker {
    fn drop(&mut self) {
        // Close the queue; the thread drains and exits on its own without being joined here.
        self.tx.take();
    }
}
