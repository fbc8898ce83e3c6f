//! A one-shot signal for the tasks of one core: fired once, it wakes every task waiting on it.
//! The drain's last word to the WebSocket tunnels (each then closes with 1001 at a frame
//! boundary). Single-threaded (`Cell`/`RefCell`): one core owns it.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
pub struct Stop {
    fired: Cell<bool>,
    waiters: RefCell<Waiters>,
}

#[derive(Default)]
struct Waiters {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Stop {
    pub fn fire(&self) {
        self.fired.set(true);
        let mut w = self.waiters.borrow_mut();
        w.free.clear();
        for waker in w.slots.drain(..).flatten() {
            waker.wake();
        }
    }

    pub fn is_fired(&self) -> bool {
        self.fired.get()
    }

    /// Resolves once fired. Re-polling keeps one slot per waiting future, however often a
    /// `select!` polls it.
    pub fn wait(&self) -> Wait<'_> {
        Wait { stop: self, slot: None }
    }
}

pub struct Wait<'a> {
    stop: &'a Stop,
    slot: Option<usize>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.stop.is_fired() {
            return Poll::Ready(());
        }
        let mut w = self.stop.waiters.borrow_mut();
        match self.slot {
            Some(i) => match w.slots.get_mut(i) {
                Some(Some(waker)) if waker.will_wake(cx.waker()) => {}
                Some(slot) => *slot = Some(cx.waker().clone()),
                None => {}
            },
            None => {
                let i = match w.free.pop() {
                    Some(i) => {
                        w.slots[i] = Some(cx.waker().clone());
                        i
                    }
                    None => {
                        w.slots.push(Some(cx.waker().clone()));
                        w.slots.len() - 1
                    }
                };
                drop(w);
                self.slot = Some(i);
            }
        }
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        let Some(i) = self.slot else { return };
        if self.stop.is_fired() {
            return; // the slots went with the firing
        }
        let mut w = self.stop.waiters.borrow_mut();
        if let Some(slot) = w.slots.get_mut(i) {
            *slot = None;
            w.free.push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn one_slot_per_waiter_reused_after_drop_and_all_woken() {
        let stop = Stop::default();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut a = Box::pin(stop.wait());
        for _ in 0..5 {
            assert!(a.as_mut().poll(&mut cx).is_pending());
        }
        {
            let mut b = Box::pin(stop.wait());
            assert!(b.as_mut().poll(&mut cx).is_pending());
        }
        let mut c = Box::pin(stop.wait());
        assert!(c.as_mut().poll(&mut cx).is_pending());
        assert_eq!(stop.waiters.borrow().slots.len(), 2, "b's slot was reused by c");
        stop.fire();
        assert_eq!(count.0.load(Ordering::Relaxed), 2);
        assert!(a.as_mut().poll(&mut cx).is_ready() && c.as_mut().poll(&mut cx).is_ready());
    }
}
