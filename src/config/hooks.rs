//! `[hooks]`: the operator's commands a round runs before its agent (`pre_round`, which can skip
//! the round) and after it (`post_round`, which cannot change it). Validated in
//! `validate/hooks.rs`; the round runs them in `round/hooks.rs`.

use serde::Serialize;

/// `[hooks]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Hooks {
    /// argv of each command run before the agent, in order.
    pub pre_round: Vec<Vec<String>>,
    /// argv of each command run after the agent, in order.
    pub post_round: Vec<Vec<String>>,
    /// Each command's time limit: its process group is killed after it.
    pub timeout_s: u64,
}

impl Hooks {
    /// The longest the hooks can take together in one round, in seconds: the round service's
    /// runtime limit grows by it.
    pub(crate) fn total_timeout_s(&self) -> u64 {
        let count = (self.pre_round.len() + self.post_round.len()) as u64;
        count.saturating_mul(self.timeout_s)
    }

    /// Every hook's argv with the list it belongs to and its place there: `pre_round` first.
    pub(crate) fn all(&self) -> impl Iterator<Item = (&'static str, usize, &[String])> {
        let pre = self.pre_round.iter().enumerate();
        let post = self.post_round.iter().enumerate();
        pre.map(|(i, argv)| ("pre_round", i, argv.as_slice()))
            .chain(post.map(|(i, argv)| ("post_round", i, argv.as_slice())))
    }
}
