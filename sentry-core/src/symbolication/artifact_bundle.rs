//! Artifact bundles: the archives `sentry-cli sourcemaps upload` sends.
//!
//! A bundle is a source bundle: the magic `SYSB`, a little-endian format
//! version, then a zip archive holding `manifest.json` and the files. The
//! manifest names each file's type (`minified_source`, `source_map`, ...),
//! the URL it is served at (`~/app.min.js`: any host) and its headers, of
//! which `debug-id` ties a minified file to its source map and `sourcemap`
//! names the map of a minified file.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use serde::Deserialize;
use uuid::Uuid;

/// The magic that opens a source bundle.
const MAGIC: &[u8; 4] = b"SYSB";
/// The bytes before the zip archive: the magic and the format version.
const HEADER_LEN: usize = 8;

/// Why an artifact bundle could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactBundleError {
    /// The content is neither a source bundle nor a zip archive.
    #[error("not an artifact bundle: {0}")]
    Archive(String),
    /// The archive has no readable `manifest.json`.
    #[error("the bundle's manifest is invalid: {0}")]
    Manifest(String),
    /// The file is not in the archive, or cannot be read.
    #[error("cannot read `{path}` from the bundle: {reason}")]
    File {
        /// The file's path in the archive.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A file is larger than the limit it is read with.
    #[error("`{path}` is larger than {limit} bytes")]
    TooLarge {
        /// The file's path in the archive.
        path: String,
        /// The limit, in bytes.
        limit: u64,
    },
}

/// What a file of a bundle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    /// Original source code.
    Source,
    /// Minified (generated) JavaScript.
    MinifiedSource,
    /// A source map.
    SourceMap,
    /// A React Native indexed RAM bundle.
    IndexedRamBundle,
}

impl ArtifactKind {
    /// The name the manifest and the store use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::MinifiedSource => "minified_source",
            Self::SourceMap => "source_map",
            Self::IndexedRamBundle => "indexed_ram_bundle",
        }
    }

    /// Reads a name the manifest or the store uses.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "source" => Self::Source,
            "minified_source" => Self::MinifiedSource,
            "source_map" => Self::SourceMap,
            "indexed_ram_bundle" => Self::IndexedRamBundle,
            _ => return None,
        })
    }
}

/// One file of a bundle, as its manifest describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFile {
    /// Its path inside the archive.
    pub path: String,
    /// The URL it is served at; `~/` stands for any scheme and host.
    pub url: String,
    /// What it is.
    pub kind: ArtifactKind,
    /// Its debug ID (`debug-id` header), shared by a minified file and its
    /// source map.
    pub debug_id: Option<Uuid>,
    /// The URL of its source map (`sourcemap` header), relative to `url`.
    pub source_map: Option<String>,
}

/// What a bundle holds, read from its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleManifest {
    /// The bundle's own debug ID.
    pub bundle_id: Option<Uuid>,
    /// The release it was uploaded for, if any.
    pub release: Option<String>,
    /// The distribution it was uploaded for, if any.
    pub dist: Option<String>,
    /// Its files of known kinds, by path.
    pub files: Vec<BundleFile>,
}

#[derive(Deserialize)]
struct RawManifest {
    #[serde(default)]
    files: BTreeMap<String, RawFile>,
    #[serde(default)]
    debug_id: Option<String>,
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    dist: Option<String>,
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// A bundle's archive, opened for reading.
pub struct ArtifactBundle<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
}

impl<'a> ArtifactBundle<'a> {
    /// Opens a bundle: a source bundle, or a bare zip archive.
    ///
    /// # Errors
    ///
    /// Fails when the content is not a zip archive after the optional
    /// source bundle header.
    pub fn open(content: &'a [u8]) -> Result<Self, ArtifactBundleError> {
        if content.starts_with(MAGIC) && content.len() < HEADER_LEN {
            return Err(ArtifactBundleError::Archive(
                "the source bundle header is cut off".to_owned(),
            ));
        }
        // The zip reader finds the archive after the header itself, whether
        // the archive's offsets count the header (as sentry-cli writes
        // them) or not.
        let archive = zip::ZipArchive::new(Cursor::new(content))
            .map_err(|error| ArtifactBundleError::Archive(error.to_string()))?;
        Ok(Self { archive })
    }

    /// Reads the manifest. Files of unknown kinds, and files without a
    /// URL, are left out; debug IDs that are not UUIDs are ignored.
    ///
    /// # Errors
    ///
    /// Fails when the manifest is missing or is not the expected JSON.
    pub fn manifest(&mut self) -> Result<BundleManifest, ArtifactBundleError> {
        const MAX_MANIFEST: u64 = 64 * 1024 * 1024;
        let bytes = self
            .read("manifest.json", MAX_MANIFEST)
            .map_err(|error| ArtifactBundleError::Manifest(error.to_string()))?;
        let raw: RawManifest = serde_json::from_slice(&bytes)
            .map_err(|error| ArtifactBundleError::Manifest(error.to_string()))?;
        let files = raw
            .files
            .into_iter()
            .filter_map(|(path, file)| {
                let kind = ArtifactKind::parse(file.kind.as_deref()?)?;
                let header = |name: &str| {
                    file.headers
                        .iter()
                        .find(|(key, _)| key.eq_ignore_ascii_case(name))
                        .map(|(_, value)| value.trim().to_owned())
                };
                Some(BundleFile {
                    url: file.url?,
                    kind,
                    debug_id: header("debug-id").and_then(|id| parse_debug_id(&id)),
                    source_map: header("sourcemap").or_else(|| header("x-sourcemap")),
                    path,
                })
            })
            .collect();
        Ok(BundleManifest {
            bundle_id: raw.debug_id.as_deref().and_then(parse_debug_id),
            release: raw.release.filter(|release| !release.is_empty()),
            dist: raw.dist.filter(|dist| !dist.is_empty()),
            files,
        })
    }

    /// Reads one file whole, refusing one larger than `limit` bytes.
    ///
    /// # Errors
    ///
    /// Fails when the file is missing, larger than `limit`, or cannot be
    /// decompressed.
    pub fn read(&mut self, path: &str, limit: u64) -> Result<Vec<u8>, ArtifactBundleError> {
        let error = |reason: String| ArtifactBundleError::File {
            path: path.to_owned(),
            reason,
        };
        let file = self
            .archive
            .by_name(path)
            .map_err(|zip_error| error(zip_error.to_string()))?;
        if file.size() > limit {
            return Err(ArtifactBundleError::TooLarge {
                path: path.to_owned(),
                limit,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
        // The declared size may lie: never read past the limit.
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|io_error| error(io_error.to_string()))?;
        if bytes.len() as u64 > limit {
            return Err(ArtifactBundleError::TooLarge {
                path: path.to_owned(),
                limit,
            });
        }
        Ok(bytes)
    }
}

/// Reads a debug ID as JavaScript tools write it: a UUID, in any case,
/// with or without hyphens.
pub fn parse_debug_id(text: &str) -> Option<Uuid> {
    Uuid::try_parse(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A source bundle with the given manifest and files.
    pub(crate) fn bundle(manifest: &serde_json::Value, files: &[(&str, &str)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (path, content) in files {
            zip.start_file(*path, options).unwrap();
            zip.write_all(content.as_bytes()).unwrap();
        }
        zip.start_file("manifest.json", options).unwrap();
        zip.write_all(manifest.to_string().as_bytes()).unwrap();
        let archive = zip.finish().unwrap().into_inner();
        let mut content = b"SYSB\x02\x00\x00\x00".to_vec();
        content.extend(archive);
        content
    }

    #[test]
    fn reads_the_manifest_and_files_of_a_bundle() {
        let content = bundle(
            &serde_json::json!({
                "files": {
                    "files/_/_/app.min.js": {
                        "type": "minified_source",
                        "url": "~/app.min.js",
                        "headers": {
                            "debug-id": "2F259F80-58B7-44CB-D7CD-5B3F1E9A6B27",
                            "Sourcemap": "app.min.js.map"
                        }
                    },
                    "files/_/_/app.min.js.map": {
                        "type": "source_map",
                        "url": "~/app.min.js.map",
                        "headers": {"debug-id": "2f259f80-58b7-44cb-d7cd-5b3f1e9a6b27"}
                    },
                    "files/_/_/notes.txt": {"type": "something_else", "url": "~/notes.txt"}
                },
                "debug_id": "00000000-0000-0000-0000-000000000001",
                "org": "acme",
                "project": "web",
                "release": "web@1.0"
            }),
            &[
                ("files/_/_/app.min.js", "function a(){throw new Error}"),
                ("files/_/_/app.min.js.map", "{}"),
            ],
        );
        let mut bundle = ArtifactBundle::open(&content).unwrap();
        let manifest = bundle.manifest().unwrap();
        let id = parse_debug_id("2f259f80-58b7-44cb-d7cd-5b3f1e9a6b27");
        assert_eq!(manifest.release.as_deref(), Some("web@1.0"));
        assert_eq!(manifest.dist, None);
        assert_eq!(
            manifest.bundle_id,
            parse_debug_id("00000000-0000-0000-0000-000000000001")
        );
        assert_eq!(
            manifest.files,
            vec![
                BundleFile {
                    path: "files/_/_/app.min.js".to_owned(),
                    url: "~/app.min.js".to_owned(),
                    kind: ArtifactKind::MinifiedSource,
                    debug_id: id,
                    source_map: Some("app.min.js.map".to_owned()),
                },
                BundleFile {
                    path: "files/_/_/app.min.js.map".to_owned(),
                    url: "~/app.min.js.map".to_owned(),
                    kind: ArtifactKind::SourceMap,
                    debug_id: id,
                    source_map: None,
                },
            ]
        );
        assert_eq!(
            bundle.read("files/_/_/app.min.js", 1000).unwrap(),
            b"function a(){throw new Error}"
        );
        assert!(matches!(
            bundle.read("files/_/_/app.min.js", 5),
            Err(ArtifactBundleError::TooLarge { limit: 5, .. })
        ));
        assert!(matches!(
            bundle.read("files/missing.js", 1000),
            Err(ArtifactBundleError::File { .. })
        ));
    }

    #[test]
    fn refuses_what_is_not_a_bundle() {
        assert!(matches!(
            ArtifactBundle::open(b"SYSB\x02"),
            Err(ArtifactBundleError::Archive(_))
        ));
        assert!(matches!(
            ArtifactBundle::open(b"just some text"),
            Err(ArtifactBundleError::Archive(_))
        ));
        let no_manifest = {
            let zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
            zip.finish().unwrap().into_inner()
        };
        let mut bundle = ArtifactBundle::open(&no_manifest).unwrap();
        assert!(matches!(
            bundle.manifest(),
            Err(ArtifactBundleError::Manifest(_))
        ));
    }
}
