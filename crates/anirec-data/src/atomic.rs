//! Atomic writes: a file ([`write_file`]) or a folder of files ([`write_dir`]) is written under a
//! temporary sibling name, synced, and renamed into place, so a crash never leaves a half-written
//! snapshot, split, checkpoint or model bundle where a reader would take it for a whole one. A
//! folder that is replaced is exchanged with the new one in one step where the system can
//! (Linux's `renameat2` with `RENAME_EXCHANGE`), so a reader never finds the path empty.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};

/// Writes a file through `write` into a temporary sibling, syncs it, and renames it into place.
pub fn write_file(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    let (dir, tmp) = (parent(path), sibling(path, "tmp"));
    let result = (|| {
        let mut out = std::io::BufWriter::with_capacity(8 << 20, File::create(&tmp)?);
        write(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| DataError::io(path, e))
}

/// Writes `files` (name, bytes) into a temporary sibling folder, syncs them, and swaps it in for
/// `dir`: exchanged with the old folder in one step (which is then removed), or where the
/// system cannot exchange, the old folder renamed away first.
pub fn write_dir(dir: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    let parent = parent(dir);
    let (tmp, old) = (sibling(dir, "tmp"), sibling(dir, "old"));
    let result = (|| {
        std::fs::create_dir_all(parent)?;
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)?;
        for (name, bytes) in files {
            let mut f = File::create(tmp.join(name))?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        if !dir.exists() {
            std::fs::rename(&tmp, dir)?;
        } else if exchange(&tmp, dir)? {
            // The old folder is at `tmp` now.
            let _ = std::fs::remove_dir_all(&tmp);
        } else {
            std::fs::rename(dir, &old)?;
            std::fs::rename(&tmp, dir)?;
            let _ = std::fs::remove_dir_all(&old);
        }
        sync_dir(parent);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result.map_err(|e| DataError::io(dir, e))
}

/// The folder `path` is in (`.` for a bare name).
fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// `.NAME.TAG-PID` beside `path`.
fn sibling(path: &Path, tag: &str) -> PathBuf {
    let name = crate::files::file_name(path);
    parent(path).join(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Exchanges two paths in one step; `Ok(false)` where the system or its file system cannot.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::other("a path with a NUL byte"))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are NUL-terminated strings that outlive the call; renameat2 reads
    // them and nothing else.
    let done = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if done == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => Ok(false),
        _ => Err(e),
    }
}

/// Exchanges two paths in one step: not on this system.
#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<bool> {
    Ok(false)
}

/// Makes a rename in `dir` durable (best effort: not every file system syncs folders).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_swapped_whole_and_nothing_is_left_beside_it() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("model");
        write_dir(&dir, &[("a", b"1"), ("b", b"2")]).unwrap();
        write_dir(&dir, &[("a", b"3")]).unwrap();
        assert_eq!(std::fs::read(dir.join("a")).unwrap(), b"3");
        assert!(!dir.join("b").exists(), "the old folder's files are gone");
        let names: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["model"]);
    }

    #[test]
    fn a_folder_is_never_missing_while_it_is_replaced() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("model");
        write_dir(&dir, &[("manifest.json", b"0")]).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watcher = {
            let (dir, stop) = (dir.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut looks = 0u64;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    assert!(
                        dir.join("manifest.json").is_file(),
                        "the folder was missing after {looks} looks"
                    );
                    looks += 1;
                }
                looks
            })
        };
        for round in 1..=200u32 {
            write_dir(&dir, &[("manifest.json", round.to_string().as_bytes())]).unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(watcher.join().unwrap() > 0);
        assert_eq!(std::fs::read(dir.join("manifest.json")).unwrap(), b"200");
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("f");
        write_file(&path, |out| out.write_all(b"old")).unwrap();
        let err = write_file(&path, |_| Err(std::io::Error::other("disk full"))).unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }
}
