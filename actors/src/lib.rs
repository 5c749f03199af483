//! # warden-actors
//!
//! The state-owning half of [warden](https://docs.rs/warden): actors, their messages, the
//! persistent store, the clock and the audit events. This crate knows nothing of HTTP (it does
//! not depend on actix-web); the `warden` crate's middleware talks to it through the handles
//! defined here and re-exports it as `warden::actors`.
//!
//! ## Model
//!
//! One actor kind per concern owns its state and writes it through to the [`store`]; messages
//! are the API for every change. The [`Runtime`] opens the store and starts every actor once
//! per process, each on its own arbiter, supervised (a panic in a handler restarts the actor and
//! is recorded as an `actor.restarted` audit event) with a bounded mailbox. Every ask has a
//! deadline ([`RuntimeConfig::ask_timeout`]): an actor that does not answer yields an
//! [`ActorError`], never a hang, and callers refuse the request (fail closed).
//!
//! ```no_run
//! use warden_actors::{Runtime, RuntimeConfig, SecurityEvent};
//!
//! #[actix::main]
//! async fn main() {
//!     let rt = Runtime::start(RuntimeConfig::builder().data_dir("./data").build()).unwrap();
//!     rt.audit().emit(SecurityEvent::new("sys.startup"));
//!     rt.shutdown().await.unwrap();
//! }
//! ```
//!
//! ## Layout
//!
//! | module | what |
//! |---|---|
//! | [`clock`] | the [`Clock`] trait, [`SystemClock`], [`ManualClock`] for tests |
//! | [`store`] | the [`Store`](store::Store) trait, keyspaces, durability, the sled backend, the acceptance suite |
//! | `audit/` | the audit actor: [`SecurityEvent`], [`AuditHandle`], sinks, subscriptions, the persisted log |
//! | [`session`] | the sharded session actor, its read view, [`SessionHandle`](session::SessionHandle) |
//! | [`tokens`] | API and password-reset tokens (stored hashed), [`TokenHandle`](tokens::TokenHandle) |
//! | [`password`] | argon2id on a bounded pool of threads, [`PasswordPool`](password::PasswordPool) |
//! | [`ratelimit`] | the sharded GCRA rate-limit actor, [`RateLimitHandle`](ratelimit::RateLimitHandle) |
//! | [`lockout`] | the login lockout actor, [`LockoutHandle`](lockout::LockoutHandle) |
//! | `sweeper/` | the actor that removes expired records through the expiry index |
//! | `runtime/` | [`Runtime`]: start-up, supervision, asks with deadlines, health, shutdown |
//! | [`error`] | [`StoreError`], [`ActorError`] |
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod audit;
pub mod clock;
pub mod error;
pub mod lockout;
pub mod password;
pub mod ratelimit;
mod runtime;
pub mod session;
pub mod store;
mod sweeper;
pub mod tokens;

pub use self::{
    audit::{
        export_jsonl, is_must_log, AuditHandle, AuditPage, AuditQuery, AuditSink, AuditStats,
        ExportError, FnSink, JsonLinesSink, SecurityEvent, SinkError, SinkStats, StoredEvent,
        Subscription, TracingSink, DEFAULT_AGGREGATE_NAMES, DEFAULT_SPIKE_KINDS, MAX_DETAILS_BYTES,
        MAX_FIELD_CHARS, MAX_PAGE, MAX_QUERY_LIMIT, MUST_LOG, MUST_LOG_QUEUE_LIMIT,
        OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, REDACTED,
    },
    clock::{Clock, ManualClock, SharedClock, SystemClock},
    error::{ActorError, StoreError},
    runtime::{
        AuditConfig, PasswordSettings, Runtime, RuntimeBuilder, RuntimeConfig,
        RuntimeConfigBuilder, StartError, StoreConfig,
    },
    sweeper::SweepNow,
};
