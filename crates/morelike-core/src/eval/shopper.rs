//! The simulated shopper's reaction to one page: success when a shown
//! product is of the target class; otherwise an upvote on the product that
//! shares the most target attributes and a downvote on the one that shares
//! the fewest (ties: the first shown), cast only when the two counts differ.

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

/// The shopper's reaction to a page of classes, in shown order.
pub fn react(page: &[Class], target: Class) -> Reaction {
    let counts: Vec<usize> = page.iter().map(|&c| shared(c, target)).collect();
    if let Some(at) = counts.iter().position(|&n| n == target.len()) {
        return Reaction::Found(at);
    }
    let Some(&max) = counts.iter().max() else {
        return Reaction::Pass;
    };
    let min = *counts.iter().min().expect("non-empty");
    if max == min {
        return Reaction::Pass;
    }
    Reaction::Vote {
        up: counts.iter().position(|&n| n == max).expect("max is there"),
        down: counts.iter().position(|&n| n == min).expect("min is there"),
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
}
