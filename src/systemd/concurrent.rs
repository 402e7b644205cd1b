//! Waiting on several D-Bus calls at once: each call is sent when its future is first polled, so
//! polling them all before awaiting any reply costs one round trip for all of them, not one each.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::task::Poll;

/// A call not answered yet.
pub(crate) type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// The outputs of `futures`, in their order, once every one is ready.
pub(crate) async fn all<T>(mut futures: Vec<Pending<'_, T>>) -> Vec<T> {
    let mut done: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut waiting = false;
        for (slot, fut) in done.iter_mut().zip(futures.iter_mut()) {
            if slot.is_none() {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(out) => *slot = Some(out),
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

/// The outputs of `a` and `b` once both are ready.
pub(crate) async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    poll_fn(|cx| {
        if out_a.is_none()
            && let Poll::Ready(out) = a.as_mut().poll(cx)
        {
            out_a = Some(out);
        }
        if out_b.is_none()
            && let Poll::Ready(out) = b.as_mut().poll(cx)
        {
            out_b = Some(out);
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (
        out_a.expect("ready before the wait ended"),
        out_b.expect("ready before the wait ended"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_output_comes_back_in_order() {
        let futures: Vec<Pending<'_, u32>> = (1..=3_u32)
            .map(|n| Box::pin(async move { n * 10 }) as Pending<'_, u32>)
            .collect();
        assert_eq!(zbus::block_on(all(futures)), [10, 20, 30]);
        assert_eq!(
            zbus::block_on(both(async { 1 }, async { "two" })),
            (1, "two")
        );
    }
}
