//! The sessions of a peer, by id.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::session::Session;

/// Sessions by id. An id names one session; a newcomer with a taken id closes the older.
#[derive(Default)]
pub(crate) struct Hub {
    sessions: Mutex<HashMap<Arc<str>, Session>>,
}

impl Hub {
    /// Adds a new session under its default id (its remote address). Two sessions can have
    /// the same remote address (a client dialing one server twice): the newer then gets a
    /// `#n` suffix rather than closing the older, which only an explicit `set_id` does.
    pub(crate) fn insert(&self, session: &Session) {
        let mut sessions = self.sessions.lock();
        if sessions.get(&session.id()).is_some_and(|s| s.same(session)) {
            return; // already there, under an id a connect plugin set
        }
        let mut id = session.id();
        let mut n = 1;
        while sessions.contains_key(&id) {
            n += 1;
            id = format!("{}#{n}", session.id()).into();
        }
        if n > 1 {
            session.replace_id(id.clone());
        }
        sessions.insert(id, session.clone());
    }

    /// Moves `session` from `old` to `new`, closing whatever session held `new`.
    pub(crate) fn rename(&self, old: &str, new: Arc<str>, session: &Session) {
        let older = {
            let mut sessions = self.sessions.lock();
            if sessions.get(old).is_some_and(|s| s.same(session)) {
                sessions.remove(old);
            }
            sessions.insert(new, session.clone())
        };
        close_older(older, session);
    }

    /// Removes `session` if `id` still names it.
    pub(crate) fn remove(&self, id: &str, session: &Session) {
        let mut sessions = self.sessions.lock();
        if sessions.get(id).is_some_and(|s| s.same(session)) {
            sessions.remove(id);
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        self.sessions.lock().get(id).cloned()
    }

    pub(crate) fn all(&self) -> Vec<Session> {
        self.sessions.lock().values().cloned().collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.sessions.lock().len()
    }
}

fn close_older(older: Option<Session>, newer: &Session) {
    if let Some(older) = older.filter(|s| !s.same(newer)) {
        tracing::info!(id = %newer.id(), "session id taken over; closing the older session");
        tokio::spawn(async move { older.close().await });
    }
}
