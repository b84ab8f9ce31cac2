//! An SVG drawing backend that writes the document as it is drawn, instead of keeping it
//! whole in memory.
//!
//! The plotting library's SVG backend appends every element to one `String` and hands it
//! over at the end. The block tree of a million-block run is a 100 MB document, so that
//! string (and its copy on the way to disk) was the largest thing a long run ever held.
//! [`StreamingSvg`] gives the library's backend a small scratch string per drawing call,
//! writes out what the call added and clears it again, so the bytes on disk are exactly
//! those the library would have produced (every call of its backend writes whole, closed
//! elements; only the document's own `<svg>` tag spans calls), while memory stays that of
//! one element.

use std::io::Write;

use plotters::prelude::SVGBackend;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// The closing tag the library's backend ends every document with.
const CLOSE: &str = "</svg>\n";

/// An SVG backend writing into `out` as it draws (see the module docs).
pub struct StreamingSvg<'a> {
    out: &'a mut dyn Write,
    size: (u32, u32),
    /// The text of the drawing call under way (the library's header and closing tag around
    /// it).
    scratch: String,
    /// Length of the library's document header, which starts `scratch` on every call.
    header_len: usize,
    /// Whether the header was written out.
    started: bool,
    /// Whether the closing tag was written out.
    presented: bool,
}

impl<'a> StreamingSvg<'a> {
    /// A document of `size` pixels, written into `out`.
    pub fn new(out: &'a mut dyn Write, size: (u32, u32)) -> StreamingSvg<'a> {
        let mut scratch = String::new();
        {
            let mut empty = SVGBackend::with_string(&mut scratch, size);
            // An empty document: the header and the closing tag, nothing that can fail.
            let _ = empty.present();
        }
        let header_len = scratch.len() - CLOSE.len();
        StreamingSvg { out, size, scratch, header_len, started: false, presented: false }
    }

    fn write(&mut self, text: &str) -> Result<(), DrawingErrorKind<std::io::Error>> {
        self.out.write_all(text.as_bytes()).map_err(DrawingErrorKind::DrawingError)
    }

    /// Writes the header if it was not yet.
    fn start(&mut self) -> Result<(), DrawingErrorKind<std::io::Error>> {
        if !self.started {
            self.started = true;
            let header = self.scratch[..self.header_len].to_string();
            self.write(&header)?;
        }
        Ok(())
    }

    /// Runs one call of the library's backend on a fresh document and writes out the
    /// elements it added.
    fn forward<T>(
        &mut self,
        call: impl FnOnce(&mut SVGBackend<'_>) -> Result<T, DrawingErrorKind<std::io::Error>>,
    ) -> Result<T, DrawingErrorKind<std::io::Error>> {
        self.start()?;
        self.scratch.clear();
        let result = {
            let mut backend = SVGBackend::with_string(&mut self.scratch, self.size);
            let result = call(&mut backend);
            backend.present()?;
            result
        };
        let end = self.scratch.len() - CLOSE.len();
        let body = std::mem::take(&mut self.scratch);
        let written = self.write(&body[self.header_len..end]);
        self.scratch = body;
        written?;
        result
    }
}

impl DrawingBackend for StreamingSvg<'_> {
    type ErrorType = std::io::Error;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<std::io::Error>> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<std::io::Error>> {
        if !self.presented {
            self.start()?;
            self.presented = true;
            self.write(CLOSE)?;
            self.out.flush().map_err(DrawingErrorKind::DrawingError)?;
        }
        Ok(())
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<std::io::Error>> {
        self.forward(|b| b.draw_pixel(point, color))
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<std::io::Error>> {
        self.forward(|b| b.draw_line(from, to, style))
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<std::io::Error>> {
        self.forward(|b| b.draw_rect(upper_left, bottom_right, style, fill))
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<std::io::Error>> {
        self.forward(|b| b.draw_path(path, style))
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<std::io::Error>> {
        self.forward(|b| b.draw_circle(center, radius, style, fill))
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<std::io::Error>> {
        self.forward(|b| b.fill_polygon(vert, style))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<std::io::Error>> {
        self.forward(|b| b.draw_text(text, style, pos))
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<std::io::Error>> {
        let mut scratch = String::new();
        let backend = SVGBackend::with_string(&mut scratch, self.size);
        backend.estimate_text_size(text, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (iw, ih): (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<std::io::Error>> {
        self.forward(|b| b.blit_bitmap(pos, (iw, ih), src))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::coord::Shift;
    use plotters::prelude::*;

    fn scene<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) {
        area.fill(&WHITE).expect("fill");
        let mut chart = ChartBuilder::on(area)
            .caption("a <caption> & 'quotes'", ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(30)
            .build_cartesian_2d(0.0..10.0, 0.0..10.0)
            .expect("chart");
        chart.configure_mesh().draw().expect("mesh");
        chart
            .draw_series(LineSeries::new((0..10).map(|x| (f64::from(x), f64::from(x))), &RED))
            .expect("line");
        chart
            .draw_series((0..10).map(|x| Circle::new((f64::from(x), 5.0), 4, BLUE.filled())))
            .expect("circles");
        area.draw(&Text::new("legend", (5, 5), ("sans-serif", 12).into_font())).expect("text");
        area.present().expect("present");
    }

    #[test]
    fn streams_exactly_the_bytes_of_the_string_backend() {
        crate::figures::register_font();
        let size = (400, 300);
        let mut whole = String::new();
        scene(&SVGBackend::with_string(&mut whole, size).into_drawing_area());
        let mut streamed: Vec<u8> = Vec::new();
        scene(&StreamingSvg::new(&mut streamed, size).into_drawing_area());
        assert!(whole.len() > 1_000, "the scene draws something");
        assert_eq!(String::from_utf8(streamed).expect("utf-8"), whole);
    }

    #[test]
    fn memory_is_one_element_whatever_the_document_size() {
        let mut out: Vec<u8> = Vec::new();
        let mut backend = StreamingSvg::new(&mut out, (4000, 1400));
        let style = RGBColor(31, 119, 180).filled();
        for i in 0..20_000 {
            backend.draw_circle((i % 4000, i / 4000), 9, &style, true).expect("draw");
        }
        backend.present().expect("present");
        // The scratch text holds one element and the document header, never the document.
        assert!(backend.scratch.capacity() <= 1024, "{} bytes", backend.scratch.capacity());
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(text.matches("<circle").count(), 20_000);
        assert!(text.len() > 1_000_000 && text.ends_with(CLOSE));
    }

    #[test]
    fn an_empty_document_is_the_header_and_the_closing_tag() {
        let mut whole = String::new();
        SVGBackend::with_string(&mut whole, (10, 20)).present().expect("present");
        let mut streamed: Vec<u8> = Vec::new();
        StreamingSvg::new(&mut streamed, (10, 20)).present().expect("present");
        assert_eq!(String::from_utf8(streamed).expect("utf-8"), whole);
    }
}
