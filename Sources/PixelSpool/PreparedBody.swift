/// A batch body as it goes on the wire: gzipped when that is on.
public struct PreparedBody: Sendable {
    public var bytes: [UInt8]
    public var gzipped: Bool

    public init(bytes: [UInt8], gzipped: Bool) {
        self.bytes = bytes
        self.gzipped = gzipped
    }
}
