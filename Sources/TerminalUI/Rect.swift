/// A rectangle of cells on a canvas; layout is done by cutting rects into smaller ones.
///
/// Width and height are never negative: every helper clamps, so a layout that runs out of room yields
/// empty rects (which widgets draw nothing into) instead of trapping.
public struct Rect: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    /// One past the rightmost column.
    public var maxX: Int { x + width }
    /// One past the bottom row.
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width == 0 || height == 0 }

    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < maxX && py >= y && py < maxY
    }

    /// The part of both rects (empty, at this rect's origin, when they do not overlap).
    public func intersection(_ other: Rect) -> Rect {
        let left = max(x, other.x), top = max(y, other.y)
        let right = min(maxX, other.maxX), bottom = min(maxY, other.maxY)
        guard right > left, bottom > top else { return Rect(x: x, y: y, width: 0, height: 0) }
        return Rect(x: left, y: top, width: right - left, height: bottom - top)
    }

    /// Shrunk by `amount` on every side (for the inside of a box, `inset(by: 1)`).
    public func inset(by amount: Int) -> Rect {
        inset(horizontal: amount, vertical: amount)
    }

    /// Shrunk by `horizontal` on the left and right and by `vertical` on the top and bottom.
    public func inset(horizontal: Int, vertical: Int) -> Rect {
        Rect(x: x + horizontal, y: y + vertical, width: width - 2 * horizontal, height: height - 2 * vertical)
    }

    /// A left part `leftWidth` wide (clamped to the rect) and the rest, with `gap` columns between them.
    public func splitHorizontally(leftWidth: Int, gap: Int = 0) -> (left: Rect, right: Rect) {
        let leftW = min(max(0, leftWidth), width)
        let rightX = min(x + leftW + max(0, gap), maxX)
        return (Rect(x: x, y: y, width: leftW, height: height),
                Rect(x: rightX, y: y, width: maxX - rightX, height: height))
    }

    /// A top part `topHeight` tall (clamped to the rect) and the rest, with `gap` rows between them.
    public func splitVertically(topHeight: Int, gap: Int = 0) -> (top: Rect, bottom: Rect) {
        let topH = min(max(0, topHeight), height)
        let bottomY = min(y + topH + max(0, gap), maxY)
        return (Rect(x: x, y: y, width: width, height: topH),
                Rect(x: x, y: bottomY, width: width, height: maxY - bottomY))
    }

    /// Stacked rows, top to bottom: fixed heights as given, `nil` entries share what is left equally
    /// (earlier ones get the odd rows). Rows that run past the bottom are clipped, possibly to height 0.
    public func rows(_ heights: [Int?]) -> [Rect] {
        Rect.partition(length: height, sizes: heights).map { Rect(x: x, y: y + $0.start, width: width, height: $0.size) }
    }

    /// Side-by-side columns, left to right, sized like `rows(_:)`.
    public func columns(_ widths: [Int?]) -> [Rect] {
        Rect.partition(length: width, sizes: widths).map { Rect(x: x + $0.start, y: y, width: $0.size, height: height) }
    }

    /// Side-by-side columns whose widths are proportional to `fractions` and add up exactly to the width.
    public func columns(fractions: [Double]) -> [Rect] {
        Rect.proportional(length: width, fractions: fractions).map { Rect(x: x + $0.start, y: y, width: $0.size, height: height) }
    }

    /// Stacked rows whose heights are proportional to `fractions` and add up exactly to the height.
    public func rows(fractions: [Double]) -> [Rect] {
        Rect.proportional(length: height, fractions: fractions).map { Rect(x: x, y: y + $0.start, width: width, height: $0.size) }
    }

    /// A rect of the given size (clamped to this one) centred in this one; for dialogs and overlays.
    public func centered(width w: Int, height h: Int) -> Rect {
        let cw = min(max(0, w), width), ch = min(max(0, h), height)
        return Rect(x: x + (width - cw) / 2, y: y + (height - ch) / 2, width: cw, height: ch)
    }

    private static func partition(length: Int, sizes: [Int?]) -> [(start: Int, size: Int)] {
        let fixed = sizes.reduce(0) { $0 + max(0, $1 ?? 0) }
        let flexibleCount = sizes.filter { $0 == nil }.count
        let spare = max(0, length - fixed)
        var flexibleSeen = 0, position = 0
        return sizes.map { size in
            let wanted: Int
            if let size {
                wanted = max(0, size)
            } else {
                wanted = spare / flexibleCount + (flexibleSeen < spare % flexibleCount ? 1 : 0)
                flexibleSeen += 1
            }
            let start = min(position, length)
            let actual = min(wanted, length - start)
            position = start + actual
            return (start, actual)
        }
    }

    private static func proportional(length: Int, fractions: [Double]) -> [(start: Int, size: Int)] {
        let weights = fractions.map { $0.isFinite ? max(0, $0) : 0 }
        let total = weights.reduce(0, +)
        var cumulative = 0.0, previous = 0
        return weights.map { w in
            cumulative += w
            let end = total > 0 ? Int((cumulative / total * Double(length)).rounded()) : 0
            let clampedEnd = min(max(end, previous), length)
            defer { previous = clampedEnd }
            return (previous, clampedEnd - previous)
        }
    }
}
