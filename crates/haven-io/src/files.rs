//! Writing files without surprises.
//!
//! Every file `haven` writes is replaced atomically: the text goes to a temporary file in the
//! same directory, which is flushed to disk and then renamed over the old file. A reader (Flux,
//! an editor, a CI job) sees the old file or the new one, never half of one, and a crash leaves
//! the old file in place.
//!
//! And `haven` never writes through a symbolic link that leads out of the tree it writes: a Git
//! repository can carry a link `clusters/prod -> /etc` or `haven-plus.yaml -> ~/.bashrc`, and
//! `haven plus render` run in a checkout must not write there. [`Tree`] checks every directory
//! and file on the way; [`OutputFile`] (a single file named on the command line) refuses a link
//! to a regular file outright, and writes straight into a pipe or device (`-o /dev/stdout`).
//!
//! The checks look at the file system before writing; they guard against what a repository
//! carries, not against another process swapping directories while `haven` writes.

use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use tempfile::NamedTempFile;

/// Why a file was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "{}: is a symbolic link to {}, outside {}; haven does not write through it (remove the link, or render into another directory)",
        path.display(), target.display(), root.display()
    )]
    LeadsOutside {
        path: PathBuf,
        target: PathBuf,
        root: PathBuf,
    },
    #[error(
        "{}: is a symbolic link to {}, which does not exist; haven does not write through it (remove the link)",
        path.display(), target.display()
    )]
    Dangling { path: PathBuf, target: PathBuf },
    #[error(
        "{}: is a symbolic link; haven does not write through links to files (remove it, or name the file it points to)",
        path.display()
    )]
    Symlink { path: PathBuf },
    #[error("{}: {what}", path.display())]
    NotWritable { path: PathBuf, what: &'static str },
    #[error("{}: not a path inside {}", path.display(), root.display())]
    OutsideTree { path: PathBuf, root: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A directory tree that files are written into, as `haven plus render -o DIR` does.
#[derive(Debug)]
pub struct Tree {
    /// As the user named it, for messages.
    root: PathBuf,
    /// With every link resolved: what "inside" means.
    real: PathBuf,
    /// Directories written into, synced once at [`Tree::finish`].
    touched: std::collections::BTreeSet<PathBuf>,
}

impl Tree {
    /// The tree at `root`, created when missing. `root` itself may be a link: the user chose it.
    pub fn open(root: &Path) -> Result<Self, WriteError> {
        fs::create_dir_all(root).map_err(io_err(root))?;
        let real = fs::canonicalize(root).map_err(io_err(root))?;
        Ok(Self {
            root: root.to_path_buf(),
            real,
            touched: Default::default(),
        })
    }

    /// Whether [`Tree::write`] would write `rel`, without writing or creating anything: check
    /// every path first, and a refused link leaves the tree as it was.
    pub fn check(&self, rel: &Path) -> Result<(), WriteError> {
        let shown = self.root.join(rel);
        let Some((dir, name)) = self.resolve_parent(rel, false)? else {
            // A directory on the way does not exist yet: all below it will be new.
            return Ok(());
        };
        let path = dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => self.inside(&path, &shown).map(|_| ()),
            Ok(meta) if !meta.is_file() => Err(WriteError::NotWritable {
                path: shown,
                what: "exists and is not a regular file",
            }),
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&shown)(e)),
        }
    }

    /// Writes `text` to `rel` (relative to the root) unless the file already holds exactly that;
    /// returns whether it wrote. Missing directories are created; a link on the way (directory
    /// or file) is followed only when it stays inside the tree; an existing file keeps its
    /// permissions.
    pub fn write(&mut self, rel: &Path, text: &[u8]) -> Result<bool, WriteError> {
        let shown = self.root.join(rel);
        let (dir, name) =
            self.resolve_parent(rel, true)?
                .ok_or_else(|| WriteError::NotWritable {
                    path: shown.clone(),
                    what: "its directory could not be created",
                })?;
        let path = dir.join(&name);
        let existing = match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                self.inside(&path, &shown)?;
                fs::metadata(&path).ok()
            }
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&shown)(e)),
        };
        if let Some(meta) = &existing {
            if !meta.is_file() {
                return Err(WriteError::NotWritable {
                    path: shown,
                    what: "exists and is not a regular file",
                });
            }
            if fs::read(&path).is_ok_and(|old| old == text) {
                return Ok(false);
            }
        }
        replace(&dir, &path, &shown, existing.map(|m| m.permissions()), text)?;
        self.touched.insert(dir);
        Ok(true)
    }

    /// Flushes the directories written into, so that the renames survive a crash.
    pub fn finish(self) -> Result<(), WriteError> {
        for dir in &self.touched {
            sync_dir(dir).map_err(io_err(dir))?;
        }
        Ok(())
    }

    /// The real directory `rel`'s file goes into and the file's name. Missing directories are
    /// created when `create`, else the answer is `None`.
    fn resolve_parent(
        &self,
        rel: &Path,
        create: bool,
    ) -> Result<Option<(PathBuf, std::ffi::OsString)>, WriteError> {
        let outside = || WriteError::OutsideTree {
            path: rel.to_path_buf(),
            root: self.root.clone(),
        };
        let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(p) => parts.push(p),
                Component::CurDir => {}
                _ => return Err(outside()),
            }
        }
        let Some(name) = parts.pop() else {
            return Err(outside());
        };
        let mut dir = self.real.clone();
        let mut shown_dir = self.root.clone();
        for part in parts {
            let next = dir.join(part);
            shown_dir.push(part);
            match fs::symlink_metadata(&next) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    let target = self.inside(&next, &shown_dir)?;
                    if !target.is_dir() {
                        return Err(WriteError::NotWritable {
                            path: shown_dir,
                            what: "is a link to something that is not a directory",
                        });
                    }
                    dir = target;
                }
                Ok(meta) if meta.is_dir() => dir = next,
                Ok(_) => {
                    return Err(WriteError::NotWritable {
                        path: shown_dir,
                        what: "is a file where a directory is needed",
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if !create {
                        return Ok(None);
                    }
                    fs::create_dir(&next).map_err(io_err(&shown_dir))?;
                    dir = next;
                }
                Err(e) => return Err(io_err(&shown_dir)(e)),
            }
        }
        Ok(Some((dir, name.to_os_string())))
    }

    /// Where the link at `path` leads, when that is inside the tree.
    fn inside(&self, path: &Path, shown: &Path) -> Result<PathBuf, WriteError> {
        let target = fs::read_link(path).unwrap_or_default();
        match fs::canonicalize(path) {
            Ok(real) if real.starts_with(&self.real) => Ok(real),
            Ok(real) => Err(WriteError::LeadsOutside {
                path: shown.to_path_buf(),
                target: real,
                root: self.root.clone(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(WriteError::Dangling {
                path: shown.to_path_buf(),
                target,
            }),
            Err(e) => Err(io_err(shown)(e)),
        }
    }
}

/// Writes `text` to `path` atomically, as [`OutputFile`] does.
pub fn write_file(path: &Path, text: &[u8]) -> Result<(), WriteError> {
    let mut out = OutputFile::create(path)?;
    out.write_all(text).map_err(io_err(path))?;
    out.commit()
}

/// A file named on the command line (`-o FILE`), written as a stream and put in place at
/// [`OutputFile::commit`]: a regular file is replaced atomically (keeping its permissions); a
/// pipe or device (`/dev/stdout`, `>(gzip > x)`) is written directly; a link to a regular file
/// is refused (a checkout can carry `report.json -> ~/.ssh/authorized_keys`). Dropped without
/// `commit`, nothing changes.
#[derive(Debug)]
pub struct OutputFile {
    path: PathBuf,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Atomic { dir: PathBuf, tmp: NamedTempFile },
    Stream(File),
}

impl OutputFile {
    pub fn create(path: &Path) -> Result<Self, WriteError> {
        let existing = match fs::symlink_metadata(path) {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(path)(e)),
        };
        let stream = |path: &Path| {
            let file = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(io_err(path))?;
            Ok(Self {
                path: path.to_path_buf(),
                kind: Kind::Stream(file),
            })
        };
        let permissions = match existing {
            Some(meta) if meta.file_type().is_symlink() => {
                return match fs::metadata(path) {
                    // A link to a pipe or device (`/dev/stdout` → `/proc/self/fd/1`) is a stream.
                    Ok(target) if !target.is_file() && !target.is_dir() => stream(path),
                    _ => Err(WriteError::Symlink {
                        path: path.to_path_buf(),
                    }),
                };
            }
            Some(meta) if meta.is_dir() => {
                return Err(WriteError::NotWritable {
                    path: path.to_path_buf(),
                    what: "is a directory",
                });
            }
            Some(meta) if !meta.is_file() => return stream(path),
            Some(meta) => Some(meta.permissions()),
            None => None,
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = match temp_in(&dir, permissions.as_ref()) {
            Ok(tmp) => tmp,
            // A file the user may write in a directory they may not (a report slot prepared by
            // an administrator): written in place, as before, rather than not at all.
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied && permissions.is_some() => {
                let file = fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(path)
                    .map_err(io_err(path))?;
                return Ok(Self {
                    path: path.to_path_buf(),
                    kind: Kind::Stream(file),
                });
            }
            Err(e) => return Err(io_err(path)(e)),
        };
        Ok(Self {
            path: path.to_path_buf(),
            kind: Kind::Atomic { dir, tmp },
        })
    }

    /// Puts the file in place (rename after fsync), or flushes the stream.
    pub fn commit(self) -> Result<(), WriteError> {
        match self.kind {
            Kind::Stream(mut f) => f.flush().map_err(io_err(&self.path)),
            Kind::Atomic { dir, tmp } => {
                persist(tmp, &self.path)?;
                sync_dir(&dir).map_err(io_err(&dir))
            }
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.kind {
            Kind::Atomic { tmp, .. } => tmp.write(buf),
            Kind::Stream(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.kind {
            Kind::Atomic { tmp, .. } => tmp.flush(),
            Kind::Stream(f) => f.flush(),
        }
    }
}

/// A temporary file beside the target, created with the permissions a plain `fs::write` would
/// give a new file (0666 less the umask), or the old file's.
fn temp_in(dir: &Path, permissions: Option<&Permissions>) -> io::Result<NamedTempFile> {
    let mut b = tempfile::Builder::new();
    b.prefix(".haven-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(Permissions::from_mode(0o666));
    }
    let tmp = b.tempfile_in(dir)?;
    if let Some(p) = permissions {
        // The umask applied at creation; the old file's mode is what the user set.
        tmp.as_file().set_permissions(p.clone())?;
    }
    Ok(tmp)
}

fn replace(
    dir: &Path,
    path: &Path,
    shown: &Path,
    permissions: Option<Permissions>,
    text: &[u8],
) -> Result<(), WriteError> {
    let mut tmp = temp_in(dir, permissions.as_ref()).map_err(io_err(shown))?;
    tmp.write_all(text).map_err(io_err(shown))?;
    persist(tmp, path).map_err(|e| match e {
        WriteError::Io { source, .. } => io_err(shown)(source),
        other => other,
    })
}

fn persist(mut tmp: NamedTempFile, path: &Path) -> Result<(), WriteError> {
    tmp.flush().map_err(io_err(path))?;
    tmp.as_file().sync_all().map_err(io_err(path))?;
    tmp.persist(path).map_err(|e| io_err(path)(e.error))?;
    Ok(())
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("repo");
        let outside = d.path().join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        (d, root, outside)
    }

    #[test]
    fn writes_creates_directories_and_skips_unchanged_files() {
        let (_d, root, _) = setup();
        let mut t = Tree::open(&root).unwrap();
        assert!(t.write(Path::new("a/b/c.yaml"), b"x: 1\n").unwrap());
        assert!(!t.write(Path::new("a/b/c.yaml"), b"x: 1\n").unwrap());
        assert!(t.write(Path::new("a/b/c.yaml"), b"x: 2\n").unwrap());
        t.finish().unwrap();
        assert_eq!(fs::read(root.join("a/b/c.yaml")).unwrap(), b"x: 2\n");
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(root.join("a/b")).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_symlinked_file_leading_out_is_refused_and_its_target_untouched() {
        let (_d, root, outside) = setup();
        fs::write(outside.join("victim"), "precious").unwrap();
        fs::create_dir_all(root.join("clusters")).unwrap();
        symlink(outside.join("victim"), root.join("clusters/x.yaml")).unwrap();
        let mut t = Tree::open(&root).unwrap();
        let err = t.write(Path::new("clusters/x.yaml"), b"new").unwrap_err();
        assert!(matches!(err, WriteError::LeadsOutside { .. }), "{err}");
        assert!(err.to_string().contains("clusters/x.yaml"), "{err}");
        assert_eq!(
            fs::read_to_string(outside.join("victim")).unwrap(),
            "precious"
        );
    }

    #[test]
    fn check_finds_a_refused_link_without_creating_anything() {
        let (_d, root, outside) = setup();
        symlink(&outside, root.join("clusters")).unwrap();
        let t = Tree::open(&root).unwrap();
        assert!(t.check(Path::new("new/dir/x.yaml")).is_ok());
        assert!(!root.join("new").exists());
        assert!(matches!(
            t.check(Path::new("clusters/a/x.yaml")).unwrap_err(),
            WriteError::LeadsOutside { .. }
        ));
        fs::create_dir(root.join("d")).unwrap();
        symlink(outside.join("gone"), root.join("d/x.yaml")).unwrap();
        assert!(matches!(
            t.check(Path::new("d/x.yaml")).unwrap_err(),
            WriteError::Dangling { .. }
        ));
    }

    #[test]
    fn a_symlinked_directory_leading_out_is_refused() {
        let (_d, root, outside) = setup();
        symlink(&outside, root.join("clusters")).unwrap();
        let mut t = Tree::open(&root).unwrap();
        let err = t.write(Path::new("clusters/a/x.yaml"), b"new").unwrap_err();
        assert!(matches!(err, WriteError::LeadsOutside { .. }), "{err}");
        assert!(fs::read_dir(&outside).unwrap().next().is_none());
    }

    #[test]
    fn a_relative_link_climbing_out_with_dotdot_is_refused() {
        let (_d, root, outside) = setup();
        fs::create_dir_all(root.join("infrastructure")).unwrap();
        symlink("../../outside", root.join("infrastructure/loki")).unwrap();
        let mut t = Tree::open(&root).unwrap();
        let err = t
            .write(Path::new("infrastructure/loki/release.yaml"), b"new")
            .unwrap_err();
        assert!(matches!(err, WriteError::LeadsOutside { .. }), "{err}");
        assert!(fs::read_dir(&outside).unwrap().next().is_none());
        // A path that climbs out by itself is refused too.
        let err = t.write(Path::new("../outside/x.yaml"), b"new").unwrap_err();
        assert!(matches!(err, WriteError::OutsideTree { .. }), "{err}");
    }

    #[test]
    fn a_dangling_link_is_refused_and_nothing_is_created_at_its_target() {
        let (_d, root, outside) = setup();
        symlink(outside.join("not-yet"), root.join("x.yaml")).unwrap();
        let mut t = Tree::open(&root).unwrap();
        let err = t.write(Path::new("x.yaml"), b"new").unwrap_err();
        assert!(matches!(err, WriteError::Dangling { .. }), "{err}");
        assert!(!outside.join("not-yet").exists());
    }

    #[test]
    fn links_that_stay_inside_are_followed_for_directories_and_replaced_for_files() {
        let (_d, root, _) = setup();
        fs::create_dir_all(root.join("real")).unwrap();
        symlink("real", root.join("alias")).unwrap();
        fs::write(root.join("real/shared.yaml"), "old").unwrap();
        symlink("real/shared.yaml", root.join("link.yaml")).unwrap();
        let mut t = Tree::open(&root).unwrap();
        assert!(t.write(Path::new("alias/x.yaml"), b"x").unwrap());
        assert_eq!(fs::read(root.join("real/x.yaml")).unwrap(), b"x");
        assert!(t.write(Path::new("link.yaml"), b"new").unwrap());
        assert!(
            !fs::symlink_metadata(root.join("link.yaml"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            fs::read_to_string(root.join("real/shared.yaml")).unwrap(),
            "old"
        );
    }

    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        let (_d, root, _) = setup();
        fs::write(root.join("x.yaml"), "old").unwrap();
        fs::set_permissions(root.join("x.yaml"), Permissions::from_mode(0o640)).unwrap();
        let mut t = Tree::open(&root).unwrap();
        t.write(Path::new("x.yaml"), b"new").unwrap();
        let mode = fs::metadata(root.join("x.yaml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn an_output_file_replaces_atomically_and_refuses_links_to_files() {
        let (_d, root, outside) = setup();
        let report = root.join("report.json");
        write_file(&report, b"one").unwrap();
        // A reader holding the old file keeps reading the old text: the file was replaced.
        let held = File::open(&report).unwrap();
        let mut out = OutputFile::create(&report).unwrap();
        out.write_all(b"two").unwrap();
        // Not committed yet: the old text is still in place.
        assert_eq!(fs::read(&report).unwrap(), b"one");
        out.commit().unwrap();
        assert_eq!(fs::read(&report).unwrap(), b"two");
        assert_eq!(std::io::read_to_string(held).unwrap(), "one");

        fs::write(outside.join("authorized_keys"), "ssh-ed25519 AAAA").unwrap();
        let link = root.join("evil.json");
        symlink(outside.join("authorized_keys"), &link).unwrap();
        let err = write_file(&link, b"pwned").unwrap_err();
        assert!(matches!(err, WriteError::Symlink { .. }), "{err}");
        assert_eq!(
            fs::read_to_string(outside.join("authorized_keys")).unwrap(),
            "ssh-ed25519 AAAA"
        );
        let dangling = root.join("dangling.json");
        symlink(outside.join("nothing"), &dangling).unwrap();
        assert!(matches!(
            write_file(&dangling, b"x").unwrap_err(),
            WriteError::Symlink { .. }
        ));
        assert!(!outside.join("nothing").exists());
    }

    #[test]
    fn an_output_file_that_is_a_device_or_a_link_to_one_is_written_in_place() {
        let (_d, root, _) = setup();
        write_file(Path::new("/dev/null"), b"gone").unwrap();
        symlink("/dev/null", root.join("null")).unwrap();
        write_file(&root.join("null"), b"gone").unwrap();
        assert!(
            fs::symlink_metadata(root.join("null"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}
