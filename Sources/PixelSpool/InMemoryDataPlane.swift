import PixelSystem

/// A data plane in memory, for tests of the drain and forwarding: it keeps
/// every batch it is sent and answers as `answer` says (by default,
/// delivered). Bodies are never gzipped, so tests read them as they are.
public final class InMemoryDataPlane: DataPlane, @unchecked Sendable {
    /// One batch as received: its write key and its events' JSON, one per element.
    public struct Batch: Sendable, Equatable {
        public var writeKey: String
        public var events: [String]
    }

    private let state = PThreadLocked<[Batch]>([])
    /// Decides the answer to each batch; called on the sending thread.
    public var answer: (Batch) -> DeliveryResult

    public init(answer: @escaping (Batch) -> DeliveryResult = { _ in .delivered }) {
        self.answer = answer
    }

    /// The batches answered `.delivered`, in order.
    public var delivered: [Batch] { state.withLock { $0 } }

    public func prepare(_ body: [UInt8]) -> PreparedBody { PreparedBody(bytes: body, gzipped: false) }

    public func send(writeKey: String, prepared: PreparedBody) -> DeliveryResult {
        let batch = Batch(writeKey: writeKey, events: Self.events(in: prepared.bytes))
        let result = answer(batch)
        if result == .delivered { state.withLock { $0.append(batch) } }
        return result
    }

    /// The members of `{"batch":[…]}` as text, split at the top level.
    static func events(in body: [UInt8]) -> [String] {
        let prefix = Array(#"{"batch":["#.utf8)
        guard body.starts(with: prefix), body.count >= prefix.count + 2 else { return [] }
        let inner = body[prefix.count..<(body.count - 2)]
        var events: [String] = []
        var depth = 0, inString = false, escaped = false, start = inner.startIndex
        for i in inner.indices {
            let b = inner[i]
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ",") where depth == 0:
                events.append(String(decoding: inner[start..<i], as: UTF8.self))
                start = i + 1
            default: break
            }
        }
        if start < inner.endIndex { events.append(String(decoding: inner[start...], as: UTF8.self)) }
        return events
    }
}
