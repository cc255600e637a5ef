//! The call records file: one JSON line per call ([`super::record::CallRecord`]),
//! appended, rotated by size (`calls.jsonl` → `calls.jsonl.1` → ... → `.keep`, the oldest
//! dropped) so that a box's flash never fills with them.

use super::record::CallRecord;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why a record was not written.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An open records file.
#[derive(Debug)]
pub struct RecordsFile {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    file: Option<File>,
    size: u64,
}

impl RecordsFile {
    /// Records appended to `path` (created mode 0640), rotated before it would pass
    /// `max_bytes`, `keep` rotated files kept (0: the file is started again).
    pub fn new(path: &Path, max_bytes: u64, keep: u32) -> RecordsFile {
        RecordsFile {
            path: path.to_owned(),
            max_bytes,
            keep,
            file: None,
            size: 0,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `record` as one line, rotating first when the line would not fit.
    pub fn append(&mut self, record: &CallRecord) -> Result<(), RecordsError> {
        let mut line = serde_json::to_vec(record).unwrap_or_default();
        line.push(b'\n');
        let path = self.path.clone();
        let io = |source| RecordsError::Io { path, source };
        let written = self.write(&line);
        if written.is_err() {
            // Opened again next time (a full disk may have room by then).
            self.file = None;
        }
        written.map_err(io)
    }

    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        if self.file.is_none() {
            self.open()?;
        }
        if self.size > 0 && self.size + line.len() as u64 > self.max_bytes {
            self.file = None;
            self.rotate()?;
            self.open()?;
        }
        if let Some(f) = self.file.as_mut() {
            f.write_all(line)?;
            self.size += line.len() as u64;
        }
        Ok(())
    }

    fn open(&mut self) -> std::io::Result<()> {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o640)
            .open(&self.path)?;
        self.size = f.metadata()?.len();
        self.file = Some(f);
        Ok(())
    }

    fn rotated(&self, n: u32) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    }

    fn rotate(&self) -> std::io::Result<()> {
        if self.keep == 0 {
            return std::fs::remove_file(&self.path);
        }
        let _ = std::fs::remove_file(self.rotated(self.keep));
        for n in (1..self.keep).rev() {
            match std::fs::rename(self.rotated(n), self.rotated(n + 1)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        std::fs::rename(&self.path, self.rotated(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::record::{Direction, EndCause};
    use std::os::unix::fs::PermissionsExt;

    fn record(n: u32) -> CallRecord {
        CallRecord {
            call_id: format!("call-{n}"),
            port: 0,
            direction: Direction::Incoming,
            caller: "sip:a@b".into(),
            called: "sip:100@gw".into(),
            start: "2026-12-03T16:30:30.000Z".into(),
            answer: None,
            end: "2026-12-03T16:30:31.000Z".into(),
            duration_s: 0.0,
            sip_code: 486,
            cause: EndCause::Rejected,
            codec: None,
            rtp: None,
            mos: None,
        }
    }

    fn lines(p: &Path) -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let r: CallRecord = serde_json::from_str(l).unwrap();
                r.call_id
            })
            .collect()
    }

    #[test]
    fn records_rotate_by_size_and_the_oldest_go() {
        let dir = tempdir();
        let path = dir.join("calls.jsonl");
        let one = serde_json::to_vec(&record(0)).unwrap().len() as u64 + 1;
        // Room for two lines per file, two rotated files kept.
        let mut f = RecordsFile::new(&path, 2 * one + 1, 2);
        for n in 0..7 {
            f.append(&record(n)).unwrap();
        }
        assert_eq!(lines(&path), ["call-6"]);
        assert_eq!(lines(&dir.join("calls.jsonl.1")), ["call-4", "call-5"]);
        assert_eq!(lines(&dir.join("calls.jsonl.2")), ["call-2", "call-3"]);
        assert!(!dir.join("calls.jsonl.3").exists());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o007, 0, "{mode:o}");
    }

    #[test]
    fn an_existing_file_counts_towards_its_size_and_keep_0_starts_again() {
        let dir = tempdir();
        let path = dir.join("calls.jsonl");
        let one = serde_json::to_vec(&record(0)).unwrap().len() as u64 + 1;
        RecordsFile::new(&path, 10 * one, 0)
            .append(&record(0))
            .unwrap();
        let mut f = RecordsFile::new(&path, one + 1, 0);
        f.append(&record(1)).unwrap();
        assert_eq!(lines(&path), ["call-1"]);
        assert!(!dir.join("calls.jsonl.1").exists());
    }

    #[test]
    fn an_unwritable_place_is_an_error_naming_the_file() {
        let mut f = RecordsFile::new(Path::new("/nonexistent-dir/calls.jsonl"), 4096, 1);
        let e = f.append(&record(0)).unwrap_err().to_string();
        assert!(e.starts_with("/nonexistent-dir/calls.jsonl: "), "{e}");
    }

    fn tempdir() -> PathBuf {
        crate::ops::scratch_dir("records")
    }
}
