import PixelSystem

/// An open sealed spool file, read a piece at a time (never whole): the
/// drain reads a window at a time, `stats` a megabyte at a time. `size` is
/// the size when it was opened; nothing past it is read.
final class SpoolFile: @unchecked Sendable {
    let fd: Int32
    let path: String
    let size: Int

    /// `fd` stays the caller's to close, after the last read.
    init(fd: Int32, path: String, size: Int) {
        self.fd = fd
        self.path = path
        self.size = size
    }

    /// The bytes of `range` (cut at `size`).
    func bytes(in range: Range<Int>) throws(SpoolError) -> [UInt8] {
        let end = min(range.upperBound, size)
        guard range.lowerBound < end else { return [] }
        let count = end - range.lowerBound
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
        defer { buffer.deallocate() }
        var got = 0
        while got < count {
            let n = try Sys.pread(fd, UnsafeMutableRawBufferPointer(rebasing: buffer[got...]), at: range.lowerBound + got, path)
            if n == 0 { break }  // cut short since it was opened
            got += n
        }
        return Array(buffer[0..<got])
    }

    /// The byte at `offset`, or nil when it cannot be read.
    func byte(at offset: Int) -> UInt8? {
        guard offset >= 0, offset < size, let one = try? bytes(in: offset..<(offset + 1)), let first = one.first else { return nil }
        return first
    }
}

/// Bytes of a spool file from `base` on, addressed by the file's own
/// offsets: the slice of a range has indices of its own, so a line is
/// parsed and cut within its slice (`window[range]`).
struct FileWindow: Sendable {
    let base: Int
    let bytes: [UInt8]

    var end: Int { base + bytes.count }

    subscript(range: Range<Int>) -> ArraySlice<UInt8> {
        bytes[(range.lowerBound - base)..<(range.upperBound - base)]
    }

    /// The file offset of the next newline at or after `offset`, if the
    /// window has one.
    func newline(from offset: Int) -> Int? {
        bytes.withUnsafeBufferPointer { CStrings.firstIndex(of: 0x0A, in: $0, from: offset - base) }.map { $0 + base }
    }
}
