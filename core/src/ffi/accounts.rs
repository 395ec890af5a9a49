//! The accounts, kept as JSON in the data directory (`accounts.json`, mode 0600: it holds the
//! passwords, in the app's private storage).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::types::AccountConfig;
use super::PhoneError;

pub(super) struct AccountStore {
    path: PathBuf,
    accounts: Vec<Stored>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Stored {
    pub id: String,
    pub config: AccountConfig,
}

#[derive(Serialize, Deserialize)]
struct AccountsFile {
    version: u32,
    accounts: Vec<Stored>,
}

const FILE_VERSION: u32 = 1;

impl AccountStore {
    pub(super) fn open(dir: &Path) -> Result<AccountStore, PhoneError> {
        let path = dir.join("accounts.json");
        let accounts = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let file: AccountsFile = serde_json::from_str(&text)
                    .map_err(|e| PhoneError::storage(format!("{}: {e}", path.display())))?;
                if file.version != FILE_VERSION {
                    return Err(PhoneError::storage(format!(
                        "{}: version {} (this build reads {FILE_VERSION})",
                        path.display(),
                        file.version
                    )));
                }
                file.accounts
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(PhoneError::storage(format!("{}: {e}", path.display()))),
        };
        Ok(AccountStore { path, accounts })
    }

    pub(super) fn list(&self) -> &[Stored] {
        &self.accounts
    }

    /// The account the engine runs with: the first enabled one.
    pub(super) fn active(&self) -> Option<&Stored> {
        self.accounts.iter().find(|a| a.config.enabled)
    }

    pub(super) fn add(&mut self, config: AccountConfig) -> Result<String, PhoneError> {
        config.to_settings()?;
        let id = loop {
            let id = format!("acc-{}", hex::encode(rand::random::<[u8; 4]>()));
            if !self.accounts.iter().any(|a| a.id == id) {
                break id;
            }
        };
        self.accounts.push(Stored {
            id: id.clone(),
            config,
        });
        self.save_or_undo(|s| {
            s.accounts.pop();
        })?;
        Ok(id)
    }

    pub(super) fn update(&mut self, id: &str, config: AccountConfig) -> Result<(), PhoneError> {
        config.to_settings()?;
        let slot = self.position(id)?;
        let old = std::mem::replace(&mut self.accounts[slot].config, config);
        self.save_or_undo(|s| s.accounts[slot].config = old)
    }

    pub(super) fn remove(&mut self, id: &str) -> Result<(), PhoneError> {
        let slot = self.position(id)?;
        let old = self.accounts.remove(slot);
        self.save_or_undo(|s| s.accounts.insert(slot, old))
    }

    fn position(&self, id: &str) -> Result<usize, PhoneError> {
        self.accounts
            .iter()
            .position(|a| a.id == id)
            .ok_or_else(|| PhoneError::AccountNotFound { id: id.into() })
    }

    /// Writes the file (a temporary file renamed over it, so a crash leaves the old or the new
    /// one); on failure `undo` restores the list in memory.
    fn save_or_undo(&mut self, undo: impl FnOnce(&mut AccountStore)) -> Result<(), PhoneError> {
        let result = self.save();
        if result.is_err() {
            undo(self);
        }
        result
    }

    fn save(&self) -> Result<(), PhoneError> {
        let file = AccountsFile {
            version: FILE_VERSION,
            accounts: self.accounts.clone(),
        };
        let text = serde_json::to_string_pretty(&file).map_err(PhoneError::storage)?;
        let tmp = self.path.with_extension("json.tmp");
        write_private(&tmp, text.as_bytes())
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| PhoneError::storage(format!("{}: {e}", self.path.display())))
    }
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::types::default_account;

    #[test]
    fn accounts_survive_reopen_and_bad_ones_are_refused() {
        let dir = std::env::temp_dir().join(format!("sipher-ffi-acc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::fs::remove_file(dir.join("accounts.json"));
        let mut store = AccountStore::open(&dir).unwrap();
        let a = store
            .add(default_account(
                "1000".into(),
                "pw".into(),
                "127.0.0.1".into(),
            ))
            .unwrap();
        let mut disabled = default_account("1001".into(), "pw".into(), "127.0.0.1".into());
        disabled.enabled = false;
        let b = store.add(disabled).unwrap();
        let mut bad = default_account("10@00".into(), "pw".into(), "127.0.0.1".into());
        assert!(matches!(
            store.add(bad.clone()),
            Err(PhoneError::InvalidArgument { .. })
        ));
        bad.user = "1002".into();
        bad.codecs.wifi = vec!["g729".into()];
        assert!(matches!(
            store.update(&a, bad),
            Err(PhoneError::InvalidArgument { .. })
        ));
        store.remove(&a).unwrap();
        assert!(matches!(
            store.remove(&a),
            Err(PhoneError::AccountNotFound { .. })
        ));
        let reopened = AccountStore::open(&dir).unwrap();
        assert_eq!(reopened.list().len(), 1);
        assert_eq!(reopened.list()[0].id, b);
        assert!(
            reopened.active().is_none(),
            "the only account left is disabled"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
