import CPNG
import Foundation

/// A decoded image: 8-bit channels, interleaved (row-major, `channels` values per pixel).
/// ELPV at 300×300 gray is 90 KB per image this way, a quarter of what float storage would take.
public struct Image: Equatable, Sendable {
    public let width, height, channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels, "pixel count does not match \(width)×\(height)×\(channels)")
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels
    }
}

/// Why an image could not be read. Every case names the file.
public struct ImageError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let reason: String
    public var description: String { "\(file): \(reason)" }
}

/// PNG decoding and encoding through libpng's simplified API (which reports errors instead of longjmp-ing).
public enum PNGCodec {
    /// Images larger than this (in either dimension or in total pixels) are refused before any pixel is
    /// decompressed, so a tiny file claiming a gigapixel image cannot exhaust memory.
    public static let maxDimension = 16_384
    public static let maxPixels = 64 << 20

    /// Decodes gray (1, 2, 4, 8, 16-bit), gray+alpha, RGB, RGBA and palette PNGs into 1-channel (gray
    /// sources) or 3-channel (colour sources) 8-bit images. Alpha is composited onto black, 16-bit samples
    /// are scaled to 8 bits linearly (v/257, rounded) rather than gamma-converted.
    public static func decode(_ bytes: [UInt8], name: String) throws -> Image {
        guard bytes.count >= 8, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 else {
            throw ImageError(file: name, reason: "not a PNG file (bad signature)")
        }
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        let ok = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard ok != 0 else { throw ImageError(file: name, reason: "corrupt PNG header: \(message(image))") }
        defer { png_image_free(&image) }
        let w = Int(image.width), h = Int(image.height)
        guard w > 0, h > 0, w <= maxDimension, h <= maxDimension, w * h <= maxPixels else {
            throw ImageError(file: name, reason: "image is \(w)×\(h); tlab refuses images over \(maxDimension) per side or \(maxPixels) pixels")
        }
        let color = image.format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
        let sixteen = image.format & png_uint_32(PNG_FORMAT_FLAG_LINEAR) != 0
        let channels = color ? 3 : 1
        image.format = (color ? png_uint_32(PNG_FORMAT_FLAG_COLOR) : 0) | (sixteen ? png_uint_32(PNG_FORMAT_FLAG_LINEAR) : 0)
        let count = w * h * channels
        if sixteen {
            var wide = [UInt16](repeating: 0, count: count)
            let done = wide.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
            guard done != 0 else { throw ImageError(file: name, reason: "corrupt or truncated PNG data: \(message(image))") }
            return Image(width: w, height: h, channels: channels, pixels: wide.map { UInt8((UInt32($0) + 128) / 257) })
        }
        var pixels = [UInt8](repeating: 0, count: count)
        let done = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard done != 0 else { throw ImageError(file: name, reason: "corrupt or truncated PNG data: \(message(image))") }
        return Image(width: w, height: h, channels: channels, pixels: pixels)
    }

    public static func decode(file path: String) throws -> Image {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageError(file: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read file" : "no such file")
        }
        return try decode([UInt8](data), name: path)
    }

    /// The layouts `encode` can write (tests use them to produce every kind of PNG tlab must read).
    public enum Layout { case gray8, gray16, grayAlpha8, rgb8, rgba8, rgb16, palette8 }

    /// Encodes samples laid out as `layout` says (16-bit layouts take two native-endian bytes per sample;
    /// `palette8` takes one index per pixel followed by nothing: the palette is `palette`, RGB triples).
    public static func encode(width: Int, height: Int, layout: Layout, samples: [UInt8], palette: [UInt8] = []) throws -> [UInt8] {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width); image.height = png_uint_32(height)
        let A = png_uint_32(PNG_FORMAT_FLAG_ALPHA), C = png_uint_32(PNG_FORMAT_FLAG_COLOR), L = png_uint_32(PNG_FORMAT_FLAG_LINEAR)
        switch layout {
        case .gray8: image.format = 0
        case .gray16: image.format = L
        case .grayAlpha8: image.format = A
        case .rgb8: image.format = C
        case .rgba8: image.format = C | A
        case .rgb16: image.format = C | L
        case .palette8:
            image.format = C | png_uint_32(PNG_FORMAT_FLAG_COLORMAP)
            image.colormap_entries = png_uint_32(palette.count / 3)
        }
        var size = 0
        let first = samples.withUnsafeBytes { s in palette.withUnsafeBytes { p in
            png_image_write_to_memory(&image, nil, &size, 0, s.baseAddress, 0, palette.isEmpty ? nil : p.baseAddress)
        } }
        guard first != 0 else { throw ImageError(file: "<memory>", reason: "PNG encode failed: \(message(image))") }
        var out = [UInt8](repeating: 0, count: size)
        let done = out.withUnsafeMutableBytes { o in samples.withUnsafeBytes { s in palette.withUnsafeBytes { p in
            png_image_write_to_memory(&image, o.baseAddress, &size, 0, s.baseAddress, 0, palette.isEmpty ? nil : p.baseAddress)
        } } }
        guard done != 0 else { throw ImageError(file: "<memory>", reason: "PNG encode failed: \(message(image))") }
        return Array(out.prefix(size))
    }

    static func message(_ image: png_image) -> String {
        var m = image.message
        return withUnsafeBytes(of: &m) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

extension Image {
    /// A 1-channel copy: the channel mean for colour images (ELPV and most QC imagery are gray already).
    public func grayscale() -> Image {
        if channels == 1 { return self }
        var out = [UInt8](repeating: 0, count: width * height)
        for p in 0..<width * height {
            var s = 0
            for c in 0..<channels { s += Int(pixels[p * channels + c]) }
            out[p] = UInt8((s + channels / 2) / channels)
        }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }
}
