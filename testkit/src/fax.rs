//! Fax machines for tests: spandsp's fax terminal (Debian libspandsp-dev: T.30 with the
//! V.17, V.29 and V.27ter modems), reached through a test-only FFI, and the multi-page
//! TIFF-F documents it sends and receives (made and compared by the media crate's spandsp
//! harness, built here with `cc`). Needs libspandsp-dev, libtiff-dev and a C compiler.

use std::ffi::{CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::process::Command;

type PhaseE = extern "C" fn(*mut c_void, *mut c_void, c_int);

#[link(name = "spandsp")]
unsafe extern "C" {
    fn fax_init(s: *mut c_void, calling_party: c_int) -> *mut c_void;
    fn fax_free(s: *mut c_void) -> c_int;
    fn fax_get_t30_state(s: *mut c_void) -> *mut c_void;
    fn fax_rx(s: *mut c_void, amp: *mut i16, len: c_int) -> c_int;
    fn fax_tx(s: *mut c_void, amp: *mut i16, max_len: c_int) -> c_int;
    fn fax_set_transmit_on_idle(s: *mut c_void, on: c_int);
    fn t30_set_tx_file(t: *mut c_void, file: *const c_char, start: c_int, stop: c_int);
    fn t30_set_rx_file(t: *mut c_void, file: *const c_char, stop: c_int);
    fn t30_set_phase_e_handler(t: *mut c_void, handler: PhaseE, user: *mut c_void);
    fn t30_set_ecm_capability(t: *mut c_void, enabled: c_int);
}

/// T.30's completion code, once phase E is reached.
extern "C" fn phase_e(_t30: *mut c_void, user: *mut c_void, code: c_int) {
    // SAFETY: `user` is the `Option<i32>` of a live `Terminal` (boxed, never moved).
    unsafe { *(user as *mut Option<i32>) = Some(code) };
}

/// A fax machine on a line: it sends `tx` or receives into `rx`, audio 20 ms at a time.
pub struct Terminal {
    fax: *mut c_void,
    done: Box<Option<i32>>,
}

impl Terminal {
    /// A calling (sends CNG) or answering (sends CED) fax machine; `ecm`: offers T.30
    /// error correction mode.
    pub fn new(calling: bool, tx: Option<&Path>, rx: Option<&Path>, ecm: bool) -> Terminal {
        let mut done = Box::new(None);
        // SAFETY: spandsp allocates the state; the file names outlive the calls (spandsp
        // copies them); the phase E pointer is boxed and outlives the terminal.
        unsafe {
            let fax = fax_init(std::ptr::null_mut(), c_int::from(calling));
            assert!(!fax.is_null());
            fax_set_transmit_on_idle(fax, 1);
            let t30 = fax_get_t30_state(fax);
            if let Some(f) = tx {
                let f = CString::new(f.to_str().unwrap()).unwrap();
                t30_set_tx_file(t30, f.as_ptr(), -1, -1);
            }
            if let Some(f) = rx {
                let f = CString::new(f.to_str().unwrap()).unwrap();
                t30_set_rx_file(t30, f.as_ptr(), -1);
            }
            t30_set_ecm_capability(t30, c_int::from(ecm));
            let user = &mut *done as *mut Option<i32> as *mut c_void;
            t30_set_phase_e_handler(t30, phase_e, user);
            Terminal { fax, done }
        }
    }

    /// The next 20 ms the machine sends to the line.
    pub fn transmit(&mut self) -> [i16; 160] {
        let mut f = [0i16; 160];
        // SAFETY: the buffer holds 160 samples.
        unsafe { fax_tx(self.fax, f.as_mut_ptr(), 160) };
        f
    }

    /// 20 ms the machine hears from the line.
    pub fn receive(&mut self, f: &[i16; 160]) {
        let mut f = *f;
        // SAFETY: the buffer holds 160 samples.
        unsafe { fax_rx(self.fax, f.as_mut_ptr(), 160) };
    }

    /// T.30's completion code once the call's phase E is reached (0: success).
    pub fn done(&self) -> Option<i32> {
        *self.done
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        // SAFETY: created by fax_init, freed once.
        unsafe { fax_free(self.fax) };
    }
}

// SAFETY: spandsp's state has no thread affinity; reached only through `&mut self`.
unsafe impl Send for Terminal {}

/// A document to fax (`sent`), where the receiver writes it (`received`), and the
/// comparison of the two.
pub struct Document {
    pub sent: PathBuf,
    pub received: PathBuf,
    harness: PathBuf,
}

impl Document {
    /// `pages` fax pages (1728 pixels wide, 1100 rows, a different pattern on each) as a
    /// TIFF-F file in `dir`.
    pub fn new(dir: &Path, pages: u32) -> Document {
        std::fs::create_dir_all(dir).unwrap();
        let harness = spandsp_harness(dir);
        let (sent, received) = (dir.join("sent.tif"), dir.join("received.tif"));
        let st = Command::new(&harness)
            .args(["fax-pages", &pages.to_string()])
            .arg(&sent)
            .status()
            .unwrap();
        assert!(
            st.success(),
            "the harness could not write {}",
            sent.display()
        );
        Document {
            sent,
            received,
            harness,
        }
    }

    /// The harness's page by page, row by row comparison of what was sent and received:
    /// `pages <sent> <received> rows_differing <n>`.
    pub fn compare(&self) -> String {
        let out = Command::new(&self.harness)
            .arg("tiff-compare")
            .arg(&self.sent)
            .arg(&self.received)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// The media crate's spandsp harness (media/tests/spandsp/harness.c: spandsp's DTMF and
/// modem generators and detectors, echo canceller, fax page tools), built into `dir`.
pub fn spandsp_harness(dir: &Path) -> PathBuf {
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "spandsp"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .expect("spandsp not found by pkg-config: install libspandsp-dev libtiff-dev pkg-config");
    let flags = String::from_utf8(flags.stdout).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../media/tests/spandsp/harness.c");
    let bin = dir.join("spandsp_harness");
    let out = Command::new("cc")
        .arg("-O2")
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .args(flags.split_whitespace())
        .arg("-ltiff")
        .output()
        .expect("`cc` not found: install a C compiler (build-essential)");
    assert!(
        out.status.success(),
        "compiling {} failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}
