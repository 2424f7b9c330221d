//! A sortable table of fixed-width columns whose rows are virtualised: only
//! the rows in view are laid out, so ten thousand outliers or goroutines
//! cost what a screenful costs.
//!
//! `egui::Grid` sizes columns from the cells it laid out, which in a
//! virtualised list would make widths jump as rows scroll in and out; here
//! the caller gives the widths. A row is one clickable rectangle (cells are
//! painted into it, clipped to their columns) carrying the whole row's text
//! as its accessible label, so screen readers and tests find a row by what
//! it says. Headers are buttons: clicking one sorts by it, clicking it again
//! reverses the order. Arrows (sort order, folds) are painted: the default
//! fonts have no arrow glyphs.

use egui::{Align2, FontId, Pos2, Rect, Sense, Vec2};

/// Height of a row, in points: one line of body text with a little air.
const ROW_HEIGHT: f32 = 18.0;

/// Space between columns, in points.
const COLUMN_GAP: f32 = 12.0;

/// Size of the sort arrow and of the fold triangle, in points.
const ARROW: f32 = 8.0;

/// Indentation of a nested row and of the text after a fold triangle.
const GUTTER: f32 = 16.0;

/// One column: its header and width.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Column {
    /// Header text.
    pub(crate) title: &'static str,
    /// Width in points (the last text column takes what is left, at least this).
    pub(crate) width: f32,
    /// Numbers: right-aligned, sorted largest first at the first click.
    pub(crate) numeric: bool,
}

/// Which column the rows are sorted by, and which way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sort {
    /// Index of the column.
    pub(crate) column: usize,
    /// Largest (or last in text order) first.
    pub(crate) descending: bool,
}

impl Sort {
    /// Orders `a` and `b` the way this sort wants, given their natural order.
    pub(crate) fn apply(self, natural: std::cmp::Ordering) -> std::cmp::Ordering {
        if self.descending {
            natural.reverse()
        } else {
            natural
        }
    }
}

/// Draws the header row; returns the new sort if the user clicked a header.
pub(crate) fn header(ui: &mut egui::Ui, columns: &[Column], sort: Sort) -> Option<Sort> {
    let size = Vec2::new(ui.available_width(), ROW_HEIGHT);
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let widths = widths(columns, rect.width());
    let mut left = rect.left();
    let mut clicked = None;
    for (i, (column, width)) in columns.iter().zip(widths).enumerate() {
        let cell = Rect::from_x_y_ranges(left..=left + width, rect.y_range());
        left += width + COLUMN_GAP;
        let id = ui.scope_id().with(("table-header", column.title));
        let response = ui
            .interact(cell, id, Sense::click())
            .on_hover_text("Sort by this column; click again to reverse");
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, column.title));
        let sorted = (sort.column == i).then_some(sort.descending);
        paint_header(ui, column, cell, sorted, response.hovered());
        if response.clicked() {
            let descending = match sorted {
                Some(descending) => !descending,
                None => column.numeric,
            };
            clicked = Some(Sort {
                column: i,
                descending,
            });
        }
    }
    clicked
}

/// Paints a header cell: its title, and an arrow if the rows are sorted by
/// it (`sorted`: whether descending). The default fonts have no arrow
/// glyphs, so the arrow is a painted triangle.
fn paint_header(ui: &egui::Ui, column: &Column, cell: Rect, sorted: Option<bool>, hovered: bool) {
    let visuals = ui.visuals();
    let color = if hovered {
        visuals.strong_text_color()
    } else {
        visuals.text_color()
    };
    let painter = ui.painter().with_clip_rect(cell.intersect(ui.clip_rect()));
    let reserve = if column.numeric && sorted.is_some() {
        ARROW + 4.0
    } else {
        0.0
    };
    let text = painter.text(
        text_pos(column, cell, reserve),
        text_align(column),
        column.title,
        FontId::proportional(13.0),
        color,
    );
    let Some(descending) = sorted else {
        return;
    };
    let x = if column.numeric {
        cell.right() - ARROW / 2.0
    } else {
        text.right() + 4.0 + ARROW / 2.0
    };
    let (h, y) = (ARROW / 2.0, cell.center().y);
    let (tip, base) = if descending { (h, -h) } else { (-h, h) };
    let points = vec![
        Pos2::new(x - h, y + base),
        Pos2::new(x + h, y + base),
        Pos2::new(x, y + tip),
    ];
    painter.add(egui::Shape::convex_polygon(
        points,
        color,
        egui::Stroke::NONE,
    ));
}

/// Where a cell's text is anchored: numbers at the right edge (less
/// `reserve`), text at the left.
fn text_pos(column: &Column, cell: Rect, reserve: f32) -> Pos2 {
    if column.numeric {
        Pos2::new(cell.right() - reserve, cell.center().y)
    } else {
        Pos2::new(cell.left(), cell.center().y)
    }
}

fn text_align(column: &Column) -> Align2 {
    if column.numeric {
        Align2::RIGHT_CENTER
    } else {
        Align2::LEFT_CENTER
    }
}

/// What a row shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RowText {
    /// One text per column.
    pub(crate) cells: Vec<String>,
    /// Drawn highlighted (the current outlier, an expanded group).
    pub(crate) selected: bool,
    /// A fold triangle before the first cell, open or closed.
    pub(crate) fold: Option<bool>,
    /// Nested under the row above: the first cell is indented.
    pub(crate) nested: bool,
}

/// Draws `count` rows in a scroll area, asking `row` for the ones in view;
/// scrolls row `scroll_to` into view if given. Returns the row clicked.
pub(crate) fn rows(
    ui: &mut egui::Ui,
    id: &str,
    columns: &[Column],
    count: usize,
    scroll_to: Option<usize>,
    mut row: impl FnMut(usize) -> RowText,
) -> Option<usize> {
    let mut area = egui::ScrollArea::vertical()
        .id_salt(id)
        .auto_shrink([false, false]);
    if let Some(index) = scroll_to {
        let pitch = ROW_HEIGHT + ui.spacing().item_spacing.y;
        area = area.vertical_scroll_offset((index as f32 - 2.0).max(0.0) * pitch);
    }
    let mut clicked = None;
    area.show_rows(ui, ROW_HEIGHT, count, |ui, range| {
        let widths = widths(columns, ui.available_width());
        for index in range {
            if show_row(ui, columns, &widths, &row(index)) {
                clicked = Some(index);
            }
        }
    });
    clicked
}

/// Paints one row; returns whether it was clicked.
fn show_row(ui: &mut egui::Ui, columns: &[Column], widths: &[f32], text: &RowText) -> bool {
    let size = Vec2::new(ui.available_width(), ROW_HEIGHT);
    let (rect, response) = ui.allocate_exact_size(size, Sense::click());
    let label = text.cells.join(", ");
    let selected = text.selected || text.fold == Some(true);
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, &label));
    let visuals = ui.visuals();
    if text.selected {
        ui.painter()
            .rect_filled(rect, 2.0, visuals.selection.bg_fill.gamma_multiply(0.6));
    } else if response.hovered() {
        ui.painter()
            .rect_filled(rect, 2.0, visuals.widgets.hovered.weak_bg_fill);
    }
    let indent = match (text.fold, text.nested) {
        (Some(open), _) => {
            let icon = Rect::from_center_size(
                Pos2::new(rect.left() + GUTTER / 2.0, rect.center().y),
                Vec2::splat(ARROW),
            );
            let openness = if open { 1.0 } else { 0.0 };
            egui::collapsing_header::paint_default_icon(
                ui,
                openness,
                &response.clone().with_new_rect(icon),
            );
            GUTTER
        }
        (None, true) => 2.0 * GUTTER,
        (None, false) => 0.0,
    };
    let color = ui.visuals().text_color();
    let font = FontId::proportional(13.0);
    let mut left = rect.left();
    for (i, ((column, width), cell)) in columns.iter().zip(widths).zip(&text.cells).enumerate() {
        let cell_rect = Rect::from_x_y_ranges(left..=left + width, rect.y_range());
        left += width + COLUMN_GAP;
        let mut pos = text_pos(column, cell_rect, 0.0);
        if i == 0 {
            pos.x += indent;
        }
        ui.painter()
            .with_clip_rect(cell_rect.intersect(ui.clip_rect()))
            .text(pos, text_align(column), cell, font.clone(), color);
    }
    response.clicked()
}

/// Column widths for a table `available` points wide: the last text
/// column stretches to fill the row (a long function name or reason gets
/// the room, numbers stay next to each other).
fn widths(columns: &[Column], available: f32) -> Vec<f32> {
    let stretch = columns.iter().rposition(|c| !c.numeric);
    let fixed: f32 = columns.iter().map(|c| c.width + COLUMN_GAP).sum();
    let spare = (available - fixed).max(0.0);
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if Some(i) == stretch {
                c.width + spare
            } else {
                c.width
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_text_column_stretches() {
        let columns = [
            Column {
                title: "a",
                width: 100.0,
                numeric: false,
            },
            Column {
                title: "b",
                width: 50.0,
                numeric: true,
            },
        ];
        assert_eq!(widths(&columns, 400.0), vec![400.0 - 62.0 - 12.0, 50.0]);
        assert_eq!(widths(&columns, 10.0), vec![100.0, 50.0]);
    }

    #[test]
    fn descending_reverses() {
        let sort = Sort {
            column: 0,
            descending: true,
        };
        assert_eq!(sort.apply(1.cmp(&2)), std::cmp::Ordering::Greater);
    }
}
