//! Warnings logged while validating.

use super::*;

/// Runs `f` and returns what it logged at WARN or above on this thread.
///
/// A global subscriber (set once) writes into a per-thread buffer: scoped subscribers
/// (`with_default`) race with other test threads over tracing's callsite interest cache.
pub(crate) fn capture_warnings(f: impl FnOnce()) -> String {
    use std::{cell::RefCell, io::Write, sync::Once};

    thread_local! {
        static CAPTURED: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
    }
    struct ThreadBuffer;
    impl Write for ThreadBuffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            CAPTURED.with(|c| {
                if let Some(out) = c.borrow_mut().as_mut() {
                    out.extend_from_slice(buf);
                }
            });
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThreadBuffer)
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
    });
    CAPTURED.with(|c| *c.borrow_mut() = Some(Vec::new()));
    f();
    let bytes = CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default();
    String::from_utf8(bytes).expect("utf-8 logs")
}

#[test]
fn the_ephemeral_key_is_announced_by_exactly_one_warning() {
    let logs = capture_warnings(|| {
        let cfg = ConfigLoader::new().load().unwrap();
        assert!(cfg.secrets.is_ephemeral());
        let strong = ConfigLoader::new()
            .env(vars(&[("WARDEN_SECRET_KEY", KEY_A)]))
            .load()
            .unwrap();
        assert!(!strong.secrets.is_ephemeral());
    });
    assert_eq!(logs.lines().count(), 1, "{logs}");
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("will NOT survive a restart"), "{logs}");
    assert!(logs.contains("WARDEN_SECRET_KEY"), "{logs}");
}

#[test]
fn trusting_every_address_only_warns_in_development() {
    let toml = "[proxy]\ntrusted_proxies = [\"::/0\"]\n";
    let logs = capture_warnings(|| {
        let cfg = load(toml, &[("WARDEN_SECRET_KEY", KEY_A)]).unwrap();
        assert_eq!(cfg.proxy.trusted_proxies.len(), 1);
        assert_eq!(cfg.proxy.trusted_proxies[0].prefix_len(), 0);
    });
    assert!(logs.contains("proxy.trusted_proxies"), "{logs}");
    assert!(logs.contains("spoof"), "{logs}");
}
