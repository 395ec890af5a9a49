//! The ZRTP identity and retained-secret cache on disk (RFC 6189 §4.9): our ZID, made once,
//! and per peer ZID the retained secrets rs1/rs2 with their expiry and the SAS-verified flag.
//!
//! Two files in the data directory: `zid` (24 hex digits) and `zrtp-cache.json`. Every change
//! is written to a temporary file, synced, and renamed over the old one, so a crash leaves the
//! old cache or the new one, never half of each. A file that cannot be read back is moved
//! aside (`*.corrupt`) and replaced by a fresh one, with a warning for the user: losing the
//! cache only means the next call with each peer shows "Not verified" and must be compared.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::zrtp::cache::{CachedPeer, KnownPeers, RetainedSecret};
use crate::zrtp::message::Zid;
use crate::zrtp::session::{CacheState, SecureInfo};

/// Why the store could not be opened or saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZidStoreError {
    #[error("ZRTP data directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The ZID and the cache, in memory, mirrored to the data directory when there is one.
#[derive(Debug)]
pub struct ZidStore {
    dir: Option<PathBuf>,
    zid: Zid,
    peers: BTreeMap<Zid, StoredPeer>,
}

impl ZidStore {
    /// A store that lives only as long as the phone: a random ZID and an empty cache.
    pub fn in_memory() -> ZidStore {
        ZidStore {
            dir: None,
            zid: Zid(rand::random()),
            peers: BTreeMap::new(),
        }
    }

    /// Opens (or creates) the store in `dir`. Files that cannot be read are moved aside and
    /// replaced: the returned warnings say what happened, for the user.
    pub fn open(dir: &Path) -> Result<(ZidStore, Vec<String>), ZidStoreError> {
        let io = |source| ZidStoreError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut warnings = Vec::new();
        let zid_path = dir.join(ZID_FILE);
        let zid = match read_optional(&zid_path).map_err(io)? {
            Some(text) => match parse_zid(text.trim()) {
                Some(zid) => Some(zid),
                None => {
                    set_aside(&zid_path).map_err(io)?;
                    warnings.push(format!(
                        "the ZRTP identity in {} was unreadable and was replaced: peers will \
                         see a new device",
                        zid_path.display()
                    ));
                    None
                }
            },
            None => None,
        };
        let zid = match zid {
            Some(z) => z,
            None => {
                let z = Zid(rand::random());
                write_atomically(&zid_path, hex::encode(z.0).as_bytes()).map_err(io)?;
                z
            }
        };
        let cache_path = dir.join(CACHE_FILE);
        let peers = match read_optional(&cache_path).map_err(io)? {
            None => BTreeMap::new(),
            Some(text) => match parse_cache(&text) {
                Ok(peers) => peers,
                Err(why) => {
                    set_aside(&cache_path).map_err(io)?;
                    warnings.push(format!(
                        "the ZRTP cache {} was unreadable ({why}) and was reset: calls with \
                         known peers show \"Not verified\" until you compare the SAS again",
                        cache_path.display()
                    ));
                    BTreeMap::new()
                }
            },
        };
        let store = ZidStore {
            dir: Some(dir.to_path_buf()),
            zid,
            peers,
        };
        Ok((store, warnings))
    }

    /// Our ZID.
    pub fn zid(&self) -> Zid {
        self.zid
    }

    /// What an exchange may use now: expired secrets are left out.
    pub fn known_peers(&self, now: SystemTime) -> Arc<KnownPeers> {
        let now = unix(now);
        let live = |s: &Option<StoredSecret>| {
            s.as_ref()
                .filter(|s| s.expires.is_none_or(|at| at > now))
                .map(|s| s.value)
        };
        Arc::new(
            self.peers
                .iter()
                .map(|(zid, p)| {
                    let cached = CachedPeer {
                        rs1: live(&p.rs1),
                        rs2: live(&p.rs2),
                        verified: p.verified,
                        pbx_enrolled: p.pbx_enrolled,
                    };
                    (*zid, cached)
                })
                .collect(),
        )
    }

    /// Stores the outcome of an exchange (§4.6.1): the new secret becomes rs1 and the old rs1
    /// becomes rs2. After a cache mismatch nothing is replaced and the peer is no longer
    /// verified: the new secret waits in `pending` until the users confirm the SAS.
    pub fn record(
        &mut self,
        info: &SecureInfo,
        now: SystemTime,
    ) -> Result<Option<Pending>, ZidStoreError> {
        let secret = StoredSecret::new(info.rs1, info.cache_expiration, now);
        let entry = self.peers.entry(info.peer_zid).or_default();
        let pending = match (info.cache, secret) {
            (CacheState::Mismatch, secret) => {
                entry.verified = false;
                secret.map(|s| Pending {
                    peer: info.peer_zid,
                    secret: s,
                })
            }
            (_, Some(secret)) => {
                entry.rs2 = entry.rs1.take();
                entry.rs1 = Some(secret);
                None
            }
            // The peer asked us not to keep the secret of this call (expiration 0).
            (_, None) => None,
        };
        self.save()?;
        Ok(pending)
    }

    /// The users compared the SAS and it matched: the peer is verified from now on, and a
    /// secret held back by a mismatch is stored. `enroll`: the peer is a PBX that asked to be
    /// enrolled, and from now on its relayed SAS is believed (§7.3.1).
    pub fn confirm(
        &mut self,
        peer: Zid,
        pending: Option<Pending>,
        enroll: bool,
    ) -> Result<(), ZidStoreError> {
        let entry = self.peers.entry(peer).or_default();
        entry.verified = true;
        entry.pbx_enrolled |= enroll;
        if let Some(p) = pending.filter(|p| p.peer == peer) {
            entry.rs2 = entry.rs1.take();
            entry.rs1 = Some(p.secret);
        }
        self.save()
    }

    /// Forget that the peer was verified (and, for a PBX, that it was enrolled).
    pub fn revoke(&mut self, peer: Zid) -> Result<(), ZidStoreError> {
        if let Some(entry) = self.peers.get_mut(&peer) {
            entry.verified = false;
            entry.pbx_enrolled = false;
        }
        self.save()
    }

    /// Whether the users verified this peer.
    pub fn is_verified(&self, peer: &Zid) -> bool {
        self.peers.get(peer).is_some_and(|p| p.verified)
    }

    fn save(&self) -> Result<(), ZidStoreError> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let file = CacheFile {
            version: 1,
            peers: self
                .peers
                .iter()
                .map(|(zid, p)| (hex::encode(zid.0), p.clone()))
                .collect(),
        };
        // Plain data of strings, numbers and bools: serialization cannot fail.
        let json = serde_json::to_vec_pretty(&file).expect("the cache is plain data");
        write_atomically(&dir.join(CACHE_FILE), &json).map_err(|source| ZidStoreError::Io {
            path: dir.clone(),
            source,
        })
    }
}

/// A secret held back by a cache mismatch until the users confirm the SAS.
#[derive(Clone)]
pub struct Pending {
    peer: Zid,
    secret: StoredSecret,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

const ZID_FILE: &str = "zid";
const CACHE_FILE: &str = "zrtp-cache.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct StoredPeer {
    #[serde(default)]
    rs1: Option<StoredSecret>,
    #[serde(default)]
    rs2: Option<StoredSecret>,
    #[serde(default)]
    verified: bool,
    #[serde(default)]
    pbx_enrolled: bool,
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredSecret {
    #[serde(with = "hex_secret")]
    value: RetainedSecret,
    /// Unix seconds after which the secret is not used; none: kept indefinitely.
    expires: Option<u64>,
}

impl std::fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecret")
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl StoredSecret {
    /// None when the expiration interval says not to keep it (0).
    fn new(value: RetainedSecret, expiration: u32, now: SystemTime) -> Option<StoredSecret> {
        let expires = match expiration {
            0 => return None,
            0xffff_ffff => None,
            secs => Some(unix(now).saturating_add(u64::from(secs))),
        };
        Some(StoredSecret { value, expires })
    }
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    peers: BTreeMap<String, StoredPeer>,
}

mod hex_secret {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&text, &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}

fn parse_zid(text: &str) -> Option<Zid> {
    let mut z = [0u8; 12];
    hex::decode_to_slice(text, &mut z).ok()?;
    Some(Zid(z))
}

fn parse_cache(text: &str) -> Result<BTreeMap<Zid, StoredPeer>, String> {
    let file: CacheFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if file.version != 1 {
        return Err(format!("unknown version {}", file.version));
    }
    file.peers
        .into_iter()
        .map(|(zid, peer)| {
            parse_zid(&zid)
                .map(|z| (z, peer))
                .ok_or_else(|| format!("bad peer ZID {zid:?}"))
        })
        .collect()
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn read_optional(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read(path) {
        // Not UTF-8 is as unreadable as bad JSON: hand it on as text that will not parse.
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn set_aside(path: &Path) -> std::io::Result<()> {
    let mut aside = path.as_os_str().to_owned();
    aside.push(".corrupt");
    std::fs::rename(path, aside)
}

/// Write to `path.tmp`, fsync it, rename it over `path`, and fsync the directory so the rename
/// itself survives a power cut. The files hold secrets: only the owner may read them.
fn write_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(data)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        // Directories cannot be opened for syncing everywhere; the rename is done either way.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn info(peer: u8, rs1: u8, cache: CacheState, expiration: u32) -> SecureInfo {
        use crate::srtp::{MasterKeys, SrtpProfile};
        use crate::zrtp::algorithms::{AuthTag, CipherAlgorithm, HashAlgorithm};
        use crate::zrtp::algorithms::{KeyAgreement, SasType};
        let keys = MasterKeys::new(SrtpProfile::Aes128CmHmacSha1_80, &[1; 16], &[2; 14])
            .expect("right lengths");
        SecureInfo {
            sas: "abcd".into(),
            sas_type: SasType::B32,
            cipher: CipherAlgorithm::Aes1,
            auth_tag: AuthTag::Hs80,
            key_agreement: KeyAgreement::Dh3k,
            hash: HashAlgorithm::S256,
            pbx_peer: false,
            peer_zid: Zid([peer; 12]),
            srtp_profile: SrtpProfile::Aes128CmHmacSha1_80,
            local_srtp: keys.clone(),
            remote_srtp: keys,
            we_are_initiator: true,
            rs1: [rs1; 32],
            cache,
            verified: false,
            cache_expiration: expiration,
            sas_hash: [0; 32],
            enrollment_offered: false,
            sas_relayed: false,
        }
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sipher-zid-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn the_zid_and_the_cache_survive_a_restart() {
        let d = dir("restart");
        let now = SystemTime::now();
        let (mut s, warnings) = ZidStore::open(&d).unwrap();
        assert!(warnings.is_empty());
        let zid = s.zid();
        s.record(&info(7, 1, CacheState::New, u32::MAX), now)
            .unwrap();
        s.record(&info(7, 2, CacheState::Match, u32::MAX), now)
            .unwrap();
        s.confirm(Zid([7; 12]), None, false).unwrap();
        let (s2, warnings) = ZidStore::open(&d).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(s2.zid(), zid, "the ZID is made once");
        let peers = s2.known_peers(now);
        let p = &peers[&Zid([7; 12])];
        assert_eq!(
            (p.rs1, p.rs2, p.verified),
            (Some([2; 32]), Some([1; 32]), true)
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_mismatch_holds_the_new_secret_back_until_the_sas_is_confirmed() {
        let d = dir("mismatch");
        let now = SystemTime::now();
        let (mut s, _) = ZidStore::open(&d).unwrap();
        let peer = Zid([8; 12]);
        s.record(&info(8, 1, CacheState::New, u32::MAX), now)
            .unwrap();
        s.confirm(peer, None, false).unwrap();
        let pending = s
            .record(&info(8, 9, CacheState::Mismatch, u32::MAX), now)
            .unwrap();
        let p = &s.known_peers(now)[&peer];
        assert_eq!((p.rs1, p.verified), (Some([1; 32]), false));
        s.confirm(peer, pending, true).unwrap();
        let p = &s.known_peers(now)[&peer];
        assert_eq!(
            (p.rs1, p.rs2, p.verified),
            (Some([9; 32]), Some([1; 32]), true)
        );
        assert!(p.pbx_enrolled, "an enrolment is remembered");
        s.revoke(peer).unwrap();
        let reopened = ZidStore::open(&d).unwrap().0;
        assert!(!reopened.is_verified(&peer));
        assert!(!reopened.known_peers(now)[&peer].pbx_enrolled);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn expired_secrets_are_not_offered_and_expiration_zero_stores_nothing() {
        let mut s = ZidStore::in_memory();
        let now = SystemTime::now();
        s.record(&info(3, 1, CacheState::New, 60), now).unwrap();
        assert_eq!(s.known_peers(now)[&Zid([3; 12])].rs1, Some([1; 32]));
        let later = now + Duration::from_secs(61);
        assert_eq!(s.known_peers(later)[&Zid([3; 12])].rs1, None);
        s.record(&info(4, 1, CacheState::New, 0), now).unwrap();
        assert!(!s.known_peers(now)[&Zid([4; 12])].has_secrets());
    }

    #[test]
    fn a_corrupt_cache_is_set_aside_with_a_warning_and_the_zid_is_kept() {
        let d = dir("corrupt");
        let (s, _) = ZidStore::open(&d).unwrap();
        let zid = s.zid();
        for garbage in [
            &b"{\"version\":1,\"peers\":{\"zz\":{}}}"[..],
            b"\xff\x00{",
            b"",
        ] {
            std::fs::write(d.join(CACHE_FILE), garbage).unwrap();
            let (s2, warnings) = ZidStore::open(&d).unwrap();
            assert_eq!(s2.zid(), zid);
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(warnings[0].contains("was reset"), "{}", warnings[0]);
            assert!(s2.known_peers(SystemTime::now()).is_empty());
            assert!(d.join("zrtp-cache.json.corrupt").exists());
        }
        std::fs::write(d.join(ZID_FILE), "not hex").unwrap();
        let (s3, warnings) = ZidStore::open(&d).unwrap();
        assert_ne!(s3.zid(), zid);
        assert!(warnings[0].contains("identity"), "{warnings:?}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn the_cache_file_is_private_to_the_user() {
        let d = dir("private");
        let (mut s, _) = ZidStore::open(&d).unwrap();
        s.record(&info(5, 1, CacheState::New, u32::MAX), SystemTime::now())
            .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.join(CACHE_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
