//! Loading the production configuration, and the production profile refusing to run without a
//! strong secret key.
//!
//! ```text
//! cargo run --example production_config                                   # refused, exit 2
//! WARDEN_SECRET_KEY=$(openssl rand -hex 32) cargo run --example production_config
//! ```
//!
//! Loads `config/production.toml` (or the file named by `WARDEN_CONFIG`) and then the
//! `WARDEN_*` environment, which is where the key comes from: `WARDEN_SECRET_KEY`, plus
//! `WARDEN_PREVIOUS_SECRET_KEYS` while rotating. Without a key, or with a short, weak or
//! placeholder one, loading fails: the example prints the configuration error (every invalid
//! key, never a secret value) and exits with status 2, as a server should. With a key it prints
//! the effective settings: the key only appears as its public key id.
//!
//! It does not start the runtime (the sample file's `/var/lib/warden` and `/var/log/warden`
//! need not exist here); `cargo run --bin warden -- check` runs the full production checklist.

use warden::{session::CookieSigner, ConfigLoader};

fn main() {
    let path = std::env::var("WARDEN_CONFIG").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/config/production.toml").to_owned()
    });
    let config = match ConfigLoader::new().file(&path).process_env().load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("refusing to start: invalid configuration in {path} + environment:\n{e}");
            std::process::exit(2);
        }
    };

    let signer = CookieSigner::new(&config.secrets);
    let s = &config.session;
    println!("configuration {path}: OK");
    println!("profile          {:?}", config.profile);
    println!("bind             {}", config.server.bind);
    println!("origin           {}", config.server.origin);
    println!("allowed hosts    {:?}", config.server.allowed_hosts);
    println!("data dir         {}", config.server.data_dir.display());
    println!(
        "secret keys      {} (key ids {:?}, current {})",
        config.secrets.len(),
        signer.kids().collect::<Vec<_>>(),
        signer.current_kid()
    );
    println!(
        "session cookie   {} secure={} http_only={} same_site={:?} persistent={}",
        s.cookie_name, s.secure, s.http_only, s.same_site, s.persistent
    );
    println!(
        "session timeouts idle {}s, absolute {}s",
        s.idle_timeout.as_secs(),
        s.absolute_timeout.as_secs()
    );
    println!(
        "csrf             enabled={} trusted origins {:?}",
        config.csrf.enabled, config.csrf.trusted_origins
    );
    println!("trusted proxies  {:?}", config.proxy.trusted_proxies);
}
