//! The lanes' rectangles, rasterised on the CPU into one texture a frame.
//!
//! Zoomed out, the lanes of a large trace are tens of thousands of
//! rectangles a pixel or two wide: summary buckets and fold blocks, one per
//! pixel column of every visible row. As meshes each is two triangles (a
//! whole-trace frame of the 1 GB benchmark trace was 233k vertices) that egui
//! copies and the GPU driver then bins and rasterises; under Mesa's software
//! rasteriser that alone kept about 30 MB of scene memory and took a core
//! for a good part of every frame.
//!
//! Here each rectangle instead fills its pixels in one RGBA image that
//! covers the lanes' visible area at the screen's pixel density. The image
//! is uploaded as a texture and drawn as one quad, under the labels and
//! outlines painted after it. The cost is one write per covered pixel,
//! however many rectangles there are, and the texture is a few megabytes.
//!
//! A rectangle covers the pixels whose centres it contains (the GPU's rule,
//! so edges land where a mesh would put them), and at least one pixel
//! across when it is at least one pixel wide. A later rectangle overwrites an
//! earlier one's pixels; the items of one lane row do not overlap, so this
//! only differs from blending where a translucent summary bucket meets the
//! next within a pixel.

use egui::{Color32, ColorImage, Painter, Pos2, Rect, Shape, TextureHandle, TextureOptions};

/// The texture a [`Canvas`] is uploaded into, kept from frame to frame.
#[derive(Default)]
pub(crate) struct CanvasTexture(Option<TextureHandle>);

impl std::fmt::Debug for CanvasTexture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CanvasTexture")
            .field(&self.0.as_ref().map(TextureHandle::id))
            .finish()
    }
}

/// The lanes' pixels of one frame.
pub(crate) struct Canvas {
    /// The screen area covered, in points, on whole pixels.
    rect: Rect,
    /// Pixels per point (the screen's density, lower if the texture would
    /// be larger than the GPU allows).
    scale: f32,
    size: [usize; 2],
    /// Row by row; allocated when the first rectangle is drawn.
    pixels: Vec<Color32>,
    /// Where in the painter's list the image goes, so that it lies under
    /// whatever is painted after the canvas was made.
    slot: egui::layers::ShapeIdx,
}

impl Canvas {
    /// A transparent canvas over `area` of `painter`'s screen, painted
    /// beneath everything painted after this call.
    pub(crate) fn new(painter: &Painter, area: Rect) -> Canvas {
        let ctx = painter.ctx();
        let max_side = ctx.input(|i| i.max_texture_side).max(1) as f32;
        let ppp = ctx.pixels_per_point();
        let snap = |x: f32| (x * ppp).round() / ppp;
        let rect = Rect::from_min_max(
            Pos2::new(snap(area.min.x), snap(area.min.y)),
            Pos2::new(snap(area.max.x), snap(area.max.y)),
        );
        let longest = rect.width().max(rect.height()).max(1.0);
        let scale = ppp.min(max_side / longest);
        let side = |points: f32| (points * scale).round().max(0.0) as usize;
        Canvas {
            rect,
            scale,
            size: [side(rect.width()), side(rect.height())],
            pixels: Vec::new(),
            slot: painter.add(Shape::Noop),
        }
    }

    /// Fills the pixels of screen rectangle `r` (in points) with `color`.
    pub(crate) fn fill(&mut self, r: Rect, color: Color32) {
        let [width, height] = self.size;
        let Some((x0, x1)) = span(r.min.x - self.rect.min.x, r.width(), self.scale, width) else {
            return;
        };
        let Some((y0, y1)) = span(r.min.y - self.rect.min.y, r.height(), self.scale, height) else {
            return;
        };
        if self.pixels.is_empty() {
            self.pixels = vec![Color32::TRANSPARENT; width * height];
        }
        for y in y0..y1 {
            if let Some(row) = self.pixels.get_mut(y * width + x0..y * width + x1) {
                row.fill(color);
            }
        }
    }

    /// Uploads the pixels into `texture` (made on first use) and puts them
    /// on screen; nothing if no rectangle was drawn.
    pub(crate) fn finish(self, painter: &Painter, texture: &mut CanvasTexture) {
        if self.pixels.is_empty() {
            return;
        }
        let image = ColorImage::new(self.size, self.pixels);
        let id = match &mut texture.0 {
            Some(handle) => {
                handle.set(image, TextureOptions::NEAREST);
                handle.id()
            }
            None => {
                let handle = painter
                    .ctx()
                    .load_texture("lanes", image, TextureOptions::NEAREST);
                texture.0.insert(handle).id()
            }
        };
        let uv = Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0));
        painter.set(self.slot, Shape::image(id, self.rect, uv, Color32::WHITE));
    }
}

/// The pixels `start..end` covered by an extent of `length` points from
/// `offset` points, at `scale` pixels per point, within `0..limit`: those
/// whose centres it contains, and at least one if it is a pixel long.
fn span(offset: f32, length: f32, scale: f32, limit: usize) -> Option<(usize, usize)> {
    let first = (offset * scale - 0.5).ceil();
    let mut end = ((offset + length) * scale - 0.5).ceil();
    if end <= first && length * scale >= 1.0 {
        end = first + 1.0;
    }
    let clamp = |p: f32| p.clamp(0.0, limit as f32) as usize;
    let (first, end) = (clamp(first), clamp(end));
    (first < end).then_some((first, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extents_cover_the_pixels_whose_centres_they_contain() {
        assert_eq!(span(10.0, 5.0, 1.0, 100), Some((10, 15)));
        assert_eq!(span(10.3, 1.0, 1.0, 100), Some((10, 11)));
        assert_eq!(span(10.6, 1.0, 1.0, 100), Some((11, 12)));
        assert_eq!(span(10.0, 5.0, 2.0, 100), Some((20, 30)));
        // Thinner than a pixel: nothing, unless it is a pixel long.
        assert_eq!(span(10.1, 0.3, 1.0, 100), None);
        assert_eq!(span(10.1, 0.5, 2.0, 100), Some((20, 21)));
        // Clipped to the canvas.
        assert_eq!(span(-5.0, 10.0, 1.0, 100), Some((0, 5)));
        assert_eq!(span(95.0, 10.0, 1.0, 100), Some((95, 100)));
        assert_eq!(span(120.0, 10.0, 1.0, 100), None);
    }
}
