/// How a hit is answered (SPEC §4, "Response formats").
public enum ResponseFormat: String, Sendable, CaseIterable {
    /// `200 OK` / error text, as in the Pixel API document.
    case text
    /// A 1×1 GIF on success; errors as text.
    case gif
    /// A 1×1 GIF for every GET, rejected or not (rejections are still recorded).
    case gifAlways = "gif-always"
}
