//! The UA's calls, indexed so that no message costs a walk over every call: by handle (a
//! `BTreeMap`), by Call-ID (the dialog match of §12.2.2 and the merged-request check of
//! §8.2.2.2 look only at the calls sharing the message's Call-ID), and by deadline (a
//! min-heap of each call's next timer, re-filed lazily). A call's deadline depends only on
//! its own fields, so every call handed out mutably is noted and re-filed before the next
//! deadline is read.

use super::call::{Call, CallHandle, CallState};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::time::{Duration, Instant};

/// The calls of a [`super::Ua`].
#[derive(Default)]
pub(super) struct CallTable {
    calls: BTreeMap<CallHandle, Call>,
    by_call_id: HashMap<String, Vec<CallHandle>>,
    /// Each call's deadline as last filed, and the heap of them (stale entries are dropped
    /// when they reach the top).
    filed: HashMap<CallHandle, Instant>,
    deadlines: BinaryHeap<Reverse<(Instant, CallHandle)>>,
    /// Calls handed out mutably (or inserted) since their deadline was last filed.
    touched: Vec<CallHandle>,
}

impl CallTable {
    pub(super) fn get(&self, h: &CallHandle) -> Option<&Call> {
        self.calls.get(h)
    }

    /// The call, noted for its deadline to be re-filed.
    pub(super) fn get_mut(&mut self, h: &CallHandle) -> Option<&mut Call> {
        let c = self.calls.get_mut(h)?;
        self.touched.push(*h);
        Some(c)
    }

    pub(super) fn insert(&mut self, h: CallHandle, call: Call) {
        self.by_call_id
            .entry(call.call_id.clone())
            .or_default()
            .push(h);
        self.touched.push(h);
        if let Some(old) = self.calls.insert(h, call) {
            self.unindex(h, &old);
        }
    }

    pub(super) fn remove(&mut self, h: &CallHandle) -> Option<Call> {
        let c = self.calls.remove(h)?;
        self.unindex(*h, &c);
        Some(c)
    }

    fn unindex(&mut self, h: CallHandle, c: &Call) {
        if let Some(v) = self.by_call_id.get_mut(&c.call_id) {
            v.retain(|x| *x != h);
            if v.is_empty() {
                self.by_call_id.remove(&c.call_id);
            }
        }
        self.filed.remove(&h);
    }

    pub(super) fn len(&self) -> usize {
        self.calls.len()
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&CallHandle, &Call)> {
        self.calls.iter()
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &Call> {
        self.calls.values()
    }

    /// The calls whose Call-ID is `call_id`.
    pub(super) fn with_call_id<'a>(
        &'a self,
        call_id: &str,
    ) -> impl Iterator<Item = (CallHandle, &'a Call)> + 'a {
        self.by_call_id
            .get(call_id)
            .into_iter()
            .flatten()
            .filter_map(|h| self.calls.get(h).map(|c| (*h, c)))
    }

    /// Removes the calls `keep` refuses (walks every call: for an explicit reap).
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&CallHandle, &mut Call) -> bool) {
        let gone: Vec<CallHandle> = self
            .calls
            .iter_mut()
            .filter_map(|(h, c)| (!keep(h, c)).then_some(*h))
            .collect();
        for h in gone {
            self.remove(&h);
        }
    }

    /// Files the current deadline of every touched call.
    fn refile(&mut self, t1: Duration) {
        for h in std::mem::take(&mut self.touched) {
            let Some(at) = self.calls.get(&h).and_then(|c| c.poll_timeout_t1(t1)) else {
                self.filed.remove(&h);
                continue;
            };
            if self.filed.get(&h) != Some(&at) {
                self.filed.insert(h, at);
                self.deadlines.push(Reverse((at, h)));
            }
        }
    }

    /// The earliest deadline of any call (an ended call's is when to forget it).
    pub(super) fn next_deadline(&mut self, t1: Duration) -> Option<Instant> {
        self.refile(t1);
        while let Some(&Reverse((at, h))) = self.deadlines.peek() {
            if self.filed.get(&h) == Some(&at) {
                return Some(at);
            }
            self.deadlines.pop();
        }
        None
    }

    /// The calls whose deadline is at or before `now`, each once; their deadlines are
    /// taken off (a call handled with [`CallTable::get_mut`] is filed again).
    pub(super) fn due(&mut self, now: Instant, t1: Duration) -> Vec<CallHandle> {
        self.refile(t1);
        let mut due = Vec::new();
        while let Some(&Reverse((at, h))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            if self.filed.get(&h) == Some(&at) {
                self.filed.remove(&h);
                // Filed again at the next refile, with whatever deadline it still has.
                self.touched.push(h);
                due.push(h);
            }
        }
        due
    }

    /// Whether any call is not over.
    pub(super) fn any_live(&self) -> bool {
        self.calls
            .values()
            .any(|c| c.state != CallState::Terminated)
    }
}

impl std::ops::Index<&CallHandle> for CallTable {
    type Output = Call;

    fn index(&self, h: &CallHandle) -> &Call {
        &self.calls[h]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::{Peer, Transport};
    use crate::ua::call::Role;

    fn call(call_id: &str) -> Call {
        Call {
            cseq: 1,
            ..Call::new(
                Role::Uas,
                call_id.into(),
                "t".into(),
                Peer {
                    transport: Transport::Udp,
                    addr: "127.0.0.1:5060".parse().unwrap(),
                },
            )
        }
    }

    #[test]
    fn call_id_index_follows_inserts_and_removals() {
        let mut t = CallTable::default();
        t.insert(CallHandle(1), call("a"));
        t.insert(CallHandle(2), call("b"));
        t.insert(CallHandle(3), call("a"));
        let a: Vec<u64> = t.with_call_id("a").map(|(h, _)| h.0).collect();
        assert_eq!(a, [1, 3]);
        t.remove(&CallHandle(1));
        let a: Vec<u64> = t.with_call_id("a").map(|(h, _)| h.0).collect();
        assert_eq!(a, [3]);
        t.retain(|_, c| c.call_id != "a");
        assert_eq!(t.with_call_id("a").count(), 0);
        assert_eq!(t.with_call_id("b").count(), 1);
        assert!(
            !t.by_call_id.contains_key("a"),
            "no empty entry left behind"
        );
    }

    #[test]
    fn a_deadline_changed_through_get_mut_is_refiled() {
        let t1 = Duration::from_millis(500);
        let t0 = Instant::now();
        let mut t = CallTable::default();
        t.insert(CallHandle(1), call("a"));
        t.insert(CallHandle(2), call("b"));
        assert_eq!(t.next_deadline(t1), None);
        t.get_mut(&CallHandle(2)).unwrap().cancel_give_up = Some(t0 + t1 * 4);
        t.get_mut(&CallHandle(1)).unwrap().cancel_give_up = Some(t0 + t1 * 8);
        assert_eq!(t.next_deadline(t1), Some(t0 + t1 * 4));
        // Moved later: the stale earlier entry is skipped.
        t.get_mut(&CallHandle(2)).unwrap().cancel_give_up = Some(t0 + t1 * 16);
        assert_eq!(t.next_deadline(t1), Some(t0 + t1 * 8));
        assert!(t.due(t0 + t1 * 7, t1).is_empty());
        assert_eq!(t.due(t0 + t1 * 8, t1), [CallHandle(1)]);
        // Still due (nothing changed it): filed again, and due again.
        assert_eq!(t.next_deadline(t1), Some(t0 + t1 * 8));
        t.get_mut(&CallHandle(1)).unwrap().cancel_give_up = None;
        assert_eq!(t.next_deadline(t1), Some(t0 + t1 * 16));
        // An ended call's deadline is when it is forgotten (64*T1 after it ended).
        let c = t.get_mut(&CallHandle(2)).unwrap();
        c.state = CallState::Terminated;
        c.ended_at = Some(t0);
        assert_eq!(t.next_deadline(t1), Some(t0 + t1 * 64));
        assert_eq!(t.due(t0 + t1 * 64, t1), [CallHandle(2)]);
    }
}
