//! Group commit: durable writes that arrive together share one flush.
//!
//! A writer that needs durability calls [`GroupCommit::commit`] after its write. If no flush is
//! running, it becomes the leader and flushes; writers arriving while a flush runs wait for the
//! *next* flush, which one of them leads, so N concurrent durable writes cost about two flushes,
//! not N.

use std::sync::{Condvar, Mutex, MutexGuard};

use crate::StoreError;

#[derive(Debug, Default)]
struct State {
    /// Number of commit requests so far (each waits for a flush started after its write).
    requested: u64,
    /// All requests up to this number are durable.
    flushed: u64,
    flushing: bool,
    flushes: u64,
}

/// Coordinates flushes among threads.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

impl GroupCommit {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Returns once everything written before the call is durable.
    pub(crate) fn commit(
        &self,
        flush: impl Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut st = self.lock();
        st.requested += 1;
        let mine = st.requested;
        loop {
            if st.flushed >= mine {
                return Ok(());
            }
            if st.flushing {
                st = self.done.wait(st).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            // Lead a flush covering every request made so far.
            st.flushing = true;
            let target = st.requested;
            drop(st);
            let result = flush();
            st = self.lock();
            st.flushing = false;
            st.flushes += 1;
            if result.is_ok() {
                st.flushed = st.flushed.max(target);
            }
            self.done.notify_all();
            result?;
        }
    }

    /// How many flushes have run.
    pub(crate) fn flushes(&self) -> u64 {
        self.lock().flushes
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            atomic::{AtomicUsize, Ordering},
            mpsc, Arc, Barrier,
        },
        thread,
        time::Duration,
    };

    use super::*;

    #[test]
    fn a_single_commit_flushes_once() {
        let gc = GroupCommit::default();
        gc.commit(|| Ok(())).unwrap();
        gc.commit(|| Ok(())).unwrap();
        assert_eq!(gc.flushes(), 2);
    }

    #[test]
    fn writers_arriving_during_a_flush_share_the_next_one() {
        let gc = Arc::new(GroupCommit::default());
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let entered = Arc::new(AtomicUsize::new(0));

        // The leader blocks inside its flush until released.
        let leader = {
            let gc = gc.clone();
            let rx = release_rx.clone();
            let entered = entered.clone();
            thread::spawn(move || {
                gc.commit(|| {
                    entered.fetch_add(1, Ordering::SeqCst);
                    rx.lock().unwrap().recv().unwrap();
                    Ok(())
                })
            })
        };
        while entered.load(Ordering::SeqCst) == 0 {
            thread::sleep(Duration::from_millis(1));
        }
        // Ten followers queue up while the first flush is running.
        let barrier = Arc::new(Barrier::new(11));
        let followers: Vec<_> = (0..10)
            .map(|_| {
                let gc = gc.clone();
                let b = barrier.clone();
                thread::spawn(move || {
                    b.wait();
                    gc.commit(|| Ok(()))
                })
            })
            .collect();
        barrier.wait();
        // Give followers time to register their requests.
        while gc.lock().requested < 11 {
            thread::sleep(Duration::from_millis(1));
        }
        release_tx.send(()).unwrap();
        leader.join().unwrap().unwrap();
        for f in followers {
            f.join().unwrap().unwrap();
        }
        // One flush for the leader, one shared by all ten followers.
        assert_eq!(gc.flushes(), 2);
    }

    #[test]
    fn a_failed_flush_is_reported_and_retried_by_the_next_writer() {
        let gc = GroupCommit::default();
        let err = gc
            .commit(|| Err(StoreError::Backend("disk full".into())))
            .unwrap_err();
        assert!(matches!(err, StoreError::Backend(_)));
        gc.commit(|| Ok(())).unwrap();
        assert_eq!(gc.flushes(), 2);
    }
}
