//! A scrolling list over a paged source: keeps only the visible rows plus one screen of margin on
//! each side, and asks the source again when the view leaves that window or the data changed.

use crate::source::Page;

#[derive(Debug, Clone)]
pub struct PagedList<T> {
    /// Absolute index of the selected row.
    selected: usize,
    /// Absolute index of the first visible row.
    scroll: usize,
    window_offset: usize,
    rows: Vec<T>,
    total: usize,
    stale: bool,
    height: usize,
    /// Counters for tests and diagnostics.
    pub fetches: usize,
    pub max_kept: usize,
    pub max_limit: usize,
}

impl<T> Default for PagedList<T> {
    fn default() -> Self {
        PagedList {
            selected: 0,
            scroll: 0,
            window_offset: 0,
            rows: Vec::new(),
            total: 0,
            stale: true,
            height: 10,
            fetches: 0,
            max_kept: 0,
            max_limit: 0,
        }
    }
}

impl<T> PagedList<T> {
    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn scroll(&self) -> usize {
        self.scroll
    }

    pub fn total(&self) -> usize {
        self.total
    }

    pub fn kept(&self) -> usize {
        self.rows.len()
    }

    /// Visible rows from the last render's height.
    pub fn height(&self) -> usize {
        self.height
    }

    pub fn invalidate(&mut self) {
        self.stale = true;
    }

    /// Back to the top (after a filter change).
    pub fn reset(&mut self) {
        self.selected = 0;
        self.scroll = 0;
        self.stale = true;
    }

    pub fn selected_row(&self) -> Option<&T> {
        self.row(self.selected)
    }

    pub fn row(&self, index: usize) -> Option<&T> {
        index
            .checked_sub(self.window_offset)
            .and_then(|i| self.rows.get(i))
    }

    /// Moves the selection; the next `ensure` fetches if needed.
    pub fn move_by(&mut self, delta: isize) {
        if self.total == 0 {
            return;
        }
        let last = self.total - 1;
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn select(&mut self, index: usize) {
        self.selected = index.min(self.total.saturating_sub(1));
    }

    pub fn select_last(&mut self) {
        self.selected = self.total.saturating_sub(1);
    }

    /// Makes the visible window of `height` rows available, fetching `limit` rows from `offset`.
    pub fn ensure(&mut self, height: usize, mut fetch: impl FnMut(usize, usize) -> Page<T>) {
        self.height = height.max(1);
        for _ in 0..2 {
            self.follow_selection();
            let wanted_end = (self.scroll + self.height).min(self.total.max(self.scroll + 1));
            let have_end = self.window_offset + self.rows.len();
            let covered = self.scroll >= self.window_offset && wanted_end <= have_end;
            if !self.stale && covered {
                return;
            }
            let margin = self.height;
            let offset = self.scroll.saturating_sub(margin);
            let limit = self.height + 2 * margin;
            let page = fetch(offset, limit);
            self.fetches += 1;
            self.max_limit = self.max_limit.max(limit);
            self.window_offset = offset;
            self.rows = page.rows;
            self.rows.truncate(limit);
            self.max_kept = self.max_kept.max(self.rows.len());
            self.stale = false;
            self.total = page.total;
            let last = self.total.saturating_sub(1);
            if self.selected <= last && self.scroll <= last {
                return;
            }
            // The data shrank under the view: clamp and look again.
            self.selected = self.selected.min(last);
            self.scroll = self.scroll.min(last);
        }
        self.follow_selection();
    }

    fn follow_selection(&mut self) {
        if self.selected < self.scroll {
            self.scroll = self.selected;
        } else if self.selected >= self.scroll + self.height {
            self.scroll = self.selected + 1 - self.height;
        }
        // Keep the last page full instead of scrolling past the end.
        if self.total > 0 {
            self.scroll = self.scroll.min(self.total.saturating_sub(self.height));
        }
    }

    /// (absolute index, row) for the visible rows.
    pub fn visible(&self) -> impl Iterator<Item = (usize, &T)> {
        (self.scroll..self.scroll + self.height).filter_map(|i| self.row(i).map(|r| (i, r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(total: usize) -> impl FnMut(usize, usize) -> Page<usize> {
        move |offset, limit| Page {
            rows: (offset..(offset + limit).min(total)).collect(),
            total,
        }
    }

    #[test]
    fn window_follows_selection_with_bounded_rows() {
        let mut list = PagedList::default();
        let mut src = source(1_000_000);
        list.ensure(20, &mut src);
        assert_eq!(list.total(), 1_000_000);
        list.select_last();
        list.ensure(20, &mut src);
        assert_eq!(list.selected_row(), Some(&999_999));
        assert_eq!(list.visible().count(), 20);
        assert!(list.kept() <= 60);
        list.move_by(-25);
        list.ensure(20, &mut src);
        assert_eq!(list.selected_row(), Some(&999_974));
    }

    #[test]
    fn shrinking_data_clamps_selection() {
        let mut list = PagedList::default();
        list.ensure(10, source(100));
        list.select(95);
        list.ensure(10, source(100));
        list.invalidate();
        list.ensure(10, source(5));
        assert_eq!(list.selected(), 4);
        assert_eq!(list.selected_row(), Some(&4));
        list.invalidate();
        list.ensure(10, source(0));
        assert_eq!(list.selected_row(), None);
    }
}
