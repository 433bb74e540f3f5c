import TerminalUI

/// The workbench's styles, with colour or without (NO_COLOR, or a terminal without colours): without colour,
/// emphasis is bold / reverse / dim only and chart series differ by marker.
struct Theme {
    let colors: Bool
    let glyphs: Glyphs
    /// How images are drawn (`ImageProtocol.choose`: the flag, or the best the terminal answered to).
    var images: ImageProtocol

    init(colors: Bool, glyphs: Glyphs, images: ImageProtocol? = nil) {
        self.colors = colors
        self.glyphs = glyphs
        self.images = images ?? (colors ? .palette256 : .ramp)
    }

    var title: Style { Style(bold: true, reverse: true) }
    var border: Style { colors ? Style(fg: .index(244)) : .dim }
    var focusedBorder: Style { colors ? Style(fg: Palette.skyBlue, bold: true) : .bold }
    var heading: Style { .bold }
    var dim: Style { .dim }
    var error: Style { colors ? Style(fg: .index(196), bold: true) : Style(bold: true, underline: true) }
    var ok: Style { colors ? Style(fg: Palette.bluishGreen) : .plain }
    var warning: Style { colors ? Style(fg: Palette.orange) : .bold }
    var key: Style { colors ? Style(fg: Palette.skyBlue, bold: true) : .bold }
    var selected: Style { .reverse }
    var bar: Style { colors ? Style(fg: Palette.skyBlue) : .plain }

    /// Training series in one colour, validation in another (and by marker without colour).
    var trainSeries: Style { colors ? Style(fg: Palette.orange) : .plain }
    var validationSeries: Style { colors ? Style(fg: Palette.skyBlue, bold: true) : .bold }
    var chartMode: LineChart.Mode { colors ? .braille : .markers }
    let trainMarker: Character = "·"
    var validationMarker: Character { glyphs.isASCII ? "o" : "•" }

    func state(_ s: String) -> Style {
        switch s {
        case "running": colors ? Style(fg: Palette.bluishGreen, bold: true) : .bold
        case "paused": colors ? Style(fg: Palette.yellow) : .plain
        case "failed": error
        case "stopped", "interrupted": colors ? Style(fg: Palette.orange) : .plain
        default: .plain
        }
    }
}
