//! The access-log writer: one thread that appends every stage's lines to
//! `{dir}/{log group}.log` (or to stdout), fed by a bounded queue. The request path
//! only adds a line it has rendered to its worker thread's batch; a full batch (or the
//! worker's flush tick) goes into the queue with one try-send, so the writer wakes once
//! per batch, not per request. When the writer falls behind the batch is dropped and
//! counted (`/metrics`, the node's log, the control plane's report), so a slow disk
//! never slows a response.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};

use tracing::warn;

/// Lines a worker gathers before it hands them to the writer.
pub const BATCH_LINES: usize = 64;

/// Lines the queue holds (in batches) before new ones are dropped.
pub const QUEUE_LINES: usize = 65_536;

/// How often a worker hands over a batch that is not full, so that a quiet stage's
/// lines reach the file within this.
pub const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Where and how lines are written.
#[derive(Debug, Clone)]
pub struct AccessLogOptions {
    pub dir: PathBuf,
    /// Every line to stdout instead of files (containers).
    pub stdout: bool,
    /// A file is rotated once it reaches this size.
    pub max_bytes: u64,
    /// Rotated files kept: `NAME.log.1` (newest) … `NAME.log.{keep}`.
    pub keep: u32,
}

impl Default for AccessLogOptions {
    fn default() -> Self {
        AccessLogOptions {
            dir: PathBuf::from("access-logs"),
            stdout: false,
            max_bytes: 100 * 1024 * 1024,
            keep: 5,
        }
    }
}

/// One log group's lines, as stages name it; shared by every stage that writes there.
#[derive(Debug)]
pub struct AccessLogSink {
    pub group: Arc<str>,
    pub written: AtomicU64,
    pub dropped: AtomicU64,
}

type Line = (Arc<AccessLogSink>, String);

/// A worker thread's lines not yet handed over, and the writer they are for.
struct Batch {
    writer: usize,
    lines: Vec<Line>,
}

thread_local! {
    static BATCH: RefCell<Batch> = const {
        RefCell::new(Batch {
            writer: 0,
            lines: Vec::new(),
        })
    };
}

/// The request path's end of the queue, and the sinks by group.
#[derive(Debug)]
pub struct AccessLogWriter {
    queue: Option<SyncSender<Vec<Line>>>,
    sinks: Mutex<HashMap<Arc<str>, Arc<AccessLogSink>>>,
    /// Drops not yet reported to the control plane.
    unreported_drops: AtomicU64,
}

impl Default for AccessLogWriter {
    /// A writer with no thread (the control plane's admission compile): lines are
    /// dropped and counted.
    fn default() -> Self {
        AccessLogWriter {
            queue: None,
            sinks: Mutex::default(),
            unreported_drops: AtomicU64::new(0),
        }
    }
}

impl AccessLogWriter {
    /// Starts the writer thread.
    pub fn start(options: AccessLogOptions) -> io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel(QUEUE_LINES / BATCH_LINES);
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_lines(rx, options))?;
        Ok(AccessLogWriter {
            queue: Some(tx),
            ..Default::default()
        })
    }

    /// The sink of a log group, the same one across snapshots.
    pub fn sink(&self, group: &str) -> Arc<AccessLogSink> {
        let mut sinks = self.sinks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = sinks.get(group) {
            return s.clone();
        }
        let group: Arc<str> = group.into();
        let sink = Arc::new(AccessLogSink {
            group: group.clone(),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        sinks.insert(group, sink.clone());
        sink
    }

    pub fn sinks(&self) -> Vec<Arc<AccessLogSink>> {
        let sinks = self.sinks.lock().unwrap_or_else(PoisonError::into_inner);
        sinks.values().cloned().collect()
    }

    /// Adds a line to this thread's batch, handing the batch over when it is full.
    pub fn send(&self, sink: &Arc<AccessLogSink>, line: String) {
        let id = self as *const Self as usize;
        let full = BATCH.with(|b| {
            let mut b = b.borrow_mut();
            if b.writer != id && !b.lines.is_empty() {
                // Lines gathered for another writer: only tests run two on one thread,
                // and those lines are dropped and counted, never written to the wrong one.
                let other = std::mem::take(&mut b.lines);
                drop(b);
                self.count_dropped(&other);
                return None;
            }
            b.writer = id;
            b.lines.push((sink.clone(), line));
            (b.lines.len() >= BATCH_LINES).then(|| std::mem::take(&mut b.lines))
        });
        if let Some(lines) = full {
            self.hand_over(lines);
        }
    }

    /// Hands over what this thread has gathered; each worker calls it every
    /// [`FLUSH_INTERVAL`] and before it stops.
    pub fn flush_thread(&self) {
        let id = self as *const Self as usize;
        let lines = BATCH.with(|b| {
            let mut b = b.borrow_mut();
            if b.writer == id {
                std::mem::take(&mut b.lines)
            } else {
                Vec::new()
            }
        });
        if !lines.is_empty() {
            self.hand_over(lines);
        }
    }

    /// One try-send for the whole batch; a full queue drops it and counts the drops.
    fn hand_over(&self, lines: Vec<Line>) {
        let lines = match &self.queue {
            Some(q) => match q.try_send(lines) {
                Ok(()) => return,
                Err(TrySendError::Full(l) | TrySendError::Disconnected(l)) => l,
            },
            None => lines,
        };
        self.count_dropped(&lines);
    }

    fn count_dropped(&self, lines: &[Line]) {
        for (sink, _) in lines {
            sink.dropped.fetch_add(1, Relaxed);
        }
        self.unreported_drops.fetch_add(lines.len() as u64, Relaxed);
    }

    /// Drops since the last call, for the control plane's report and the node's log.
    pub fn take_drops(&self) -> u64 {
        self.unreported_drops.swap(0, Relaxed)
    }
}

/// An open log file and how big it is.
struct OpenLog {
    path: PathBuf,
    out: BufWriter<File>,
    size: u64,
}

fn write_lines(rx: Receiver<Vec<Line>>, options: AccessLogOptions) {
    let mut files: HashMap<Arc<str>, OpenLog> = HashMap::new();
    let stdout = io::stdout();
    // Each failing group is said once, not per line.
    let mut failed_groups: HashSet<Arc<str>> = HashSet::new();
    // Block for the first line, then take whatever else is queued before flushing, so
    // a busy node writes in large chunks and an idle one has its lines on disk.
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(batch) = next.take() {
            for (sink, line) in batch {
                if options.stdout {
                    let mut out = stdout.lock();
                    let _ = out.write_all(line.as_bytes());
                    let _ = out.write_all(b"\n");
                } else if let Err(e) = append(&mut files, &options, &sink.group, &line) {
                    if failed_groups.insert(sink.group.clone()) {
                        warn!(log_group = %sink.group, error = %e, "cannot write the access log");
                    }
                    sink.dropped.fetch_add(1, Relaxed);
                    continue;
                }
                sink.written.fetch_add(1, Relaxed);
            }
            next = rx.try_recv().ok();
        }
        if options.stdout {
            let _ = stdout.lock().flush();
        }
        for log in files.values_mut() {
            let _ = log.out.flush();
        }
    }
}

fn append(
    files: &mut HashMap<Arc<str>, OpenLog>,
    options: &AccessLogOptions,
    group: &Arc<str>,
    line: &str,
) -> io::Result<()> {
    if !files.contains_key(group) {
        let path = log_path(&options.dir, group);
        files.insert(group.clone(), open(path)?);
    }
    let Some(log) = files.get_mut(group) else {
        return Ok(());
    };
    let len = line.len() as u64 + 1;
    if log.size > 0 && log.size + len > options.max_bytes {
        log.out.flush()?;
        rotate(&log.path, options.keep)?;
        *log = open(log.path.clone())?;
    }
    log.out.write_all(line.as_bytes())?;
    log.out.write_all(b"\n")?;
    log.size += len;
    Ok(())
}

/// `{dir}/{group}.log`; a group's `/` makes subdirectories, a leading one is dropped.
/// The control plane refuses `.` and `..` segments; they are skipped here all the same.
pub fn log_path(dir: &Path, group: &str) -> PathBuf {
    let mut path = dir.to_path_buf();
    let segments: Vec<&str> = group
        .split('/')
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .collect();
    let Some((last, parents)) = segments.split_last() else {
        return path.join("_.log");
    };
    for p in parents {
        path.push(p);
    }
    path.push(format!("{last}.log"));
    path
}

fn open(path: PathBuf) -> io::Result<OpenLog> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let file = OpenOptions::new().create(true).append(true).open(&path)?;
    let size = file.metadata()?.len();
    Ok(OpenLog {
        path,
        out: BufWriter::with_capacity(64 * 1024, file),
        size,
    })
}

/// `NAME.log` → `NAME.log.1`, shifting older files up and the oldest out.
fn rotate(path: &Path, keep: u32) -> io::Result<()> {
    let numbered = |n: u32| {
        let mut p = path.as_os_str().to_owned();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    };
    if keep == 0 {
        return fs::remove_file(path);
    }
    let _ = fs::remove_file(numbered(keep));
    for n in (1..keep).rev() {
        let from = numbered(n);
        if from.exists() {
            fs::rename(&from, numbered(n + 1))?;
        }
    }
    fs::rename(path, numbered(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_name_safe_paths() {
        let d = Path::new("/logs");
        assert_eq!(log_path(d, "notes-dev"), Path::new("/logs/notes-dev.log"));
        assert_eq!(
            log_path(d, "/aws/apigw/notes"),
            Path::new("/logs/aws/apigw/notes.log")
        );
        assert_eq!(log_path(d, "../../etc/x"), Path::new("/logs/etc/x.log"));
    }

    #[test]
    fn writes_rotates_and_counts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let writer = AccessLogWriter::start(AccessLogOptions {
            dir: dir.path().to_path_buf(),
            stdout: false,
            max_bytes: 100,
            keep: 2,
        })
        .expect("start");
        let sink = writer.sink("a/b");
        for i in 0..30 {
            writer.send(&sink, format!("line {i:02} {}", "x".repeat(20)));
        }
        writer.flush_thread();
        let path = dir.path().join("a/b.log");
        let mut ok = false;
        for _ in 0..100 {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let last = fs::read_to_string(&path).unwrap_or_default();
            if last.contains("line 29") {
                ok = true;
                break;
            }
        }
        assert!(ok, "the last line reaches the file");
        assert!(dir.path().join("a/b.log.1").exists());
        assert!(dir.path().join("a/b.log.2").exists());
        assert!(!dir.path().join("a/b.log.3").exists(), "only two are kept");
        assert!(fs::metadata(&path).expect("meta").len() <= 100);
        assert_eq!(sink.written.load(Relaxed), 30);

        let offline = AccessLogWriter::default();
        let s = offline.sink("x");
        offline.send(&s, "l".into());
        offline.flush_thread();
        assert_eq!(s.dropped.load(Relaxed), 1);
        assert_eq!(offline.take_drops(), 1);
        assert_eq!(offline.take_drops(), 0);
    }
}
