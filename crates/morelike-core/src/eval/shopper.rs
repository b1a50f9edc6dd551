//! The simulated shopper's reaction to one page. Each shown product shares
//! some of the target's three attributes; the shopper upvotes the first of
//! those sharing the most (a product of the target class, once there is one)
//! and downvotes the first of those sharing the fewest, and votes only when
//! the two counts differ. The rejecting shopper only ever downvotes.

use super::truth::{shared, Class};

/// What the shopper does with a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reaction {
    /// A shown product (its position on the page) is of the target class.
    Found(usize),
    /// More Like This on `up`, Not My Style on `down` (positions on the page).
    Vote {
        /// Position of the upvoted product.
        up: usize,
        /// Position of the downvoted product.
        down: usize,
    },
    /// Every shown product shares as many target attributes: nothing to say.
    Pass,
}

/// The first product sharing the most target attributes and the first
/// sharing the fewest, when the two counts differ.
pub fn choose(page: &[Class], target: Class) -> Option<(usize, usize)> {
    let counts: Vec<usize> = page.iter().map(|&c| shared(c, target)).collect();
    let max = *counts.iter().max()?;
    let min = *counts.iter().min()?;
    if max == min {
        return None;
    }
    Some((
        counts.iter().position(|&n| n == max)?,
        counts.iter().position(|&n| n == min)?,
    ))
}

/// The shopper's reaction to a page of classes, in shown order, while they
/// have not found the target yet.
pub fn react(page: &[Class], target: Class) -> Reaction {
    if let Some(at) = page.iter().position(|&c| c == target) {
        return Reaction::Found(at);
    }
    match choose(page, target) {
        Some((up, down)) => Reaction::Vote { up, down },
        None => Reaction::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: Class = [1, 2, 3];

    #[test]
    fn a_product_of_the_target_class_is_found() {
        assert_eq!(
            react(&[[1, 0, 0], [1, 2, 3], [1, 2, 3]], TARGET),
            Reaction::Found(1)
        );
    }

    #[test]
    fn the_first_of_the_most_and_the_first_of_the_fewest_are_voted_on() {
        let page = [[0, 0, 3], [1, 2, 0], [0, 0, 0], [1, 2, 9], [5, 5, 5]];
        assert_eq!(react(&page, TARGET), Reaction::Vote { up: 1, down: 2 });
    }

    #[test]
    fn a_page_of_equals_gets_no_vote() {
        assert_eq!(react(&[[1, 0, 0], [1, 7, 7]], TARGET), Reaction::Pass);
        assert_eq!(react(&[], TARGET), Reaction::Pass);
    }

    #[test]
    fn after_the_hit_the_first_target_product_is_the_one_upvoted() {
        let page = [[1, 2, 0], [1, 2, 3], [0, 0, 0], [1, 2, 3]];
        assert_eq!(choose(&page, TARGET), Some((1, 2)));
        assert_eq!(choose(&[[1, 2, 3], [1, 2, 3]], TARGET), None);
    }
}
