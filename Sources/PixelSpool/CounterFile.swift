import PixelCore

/// The spool's counter files (`.dropped`, `.refused`, `.delivery`): fixed
/// slots of little-endian unsigned 64-bit numbers, changed in place under
/// the spool lock. A slot is never reused for another meaning: a new
/// counter is a new slot at the end, so files of older versions still read.
enum CounterFile {
    static func decode(_ bytes: ArraySlice<UInt8>, slots: Int) -> [UInt64] {
        var counts = [UInt64](repeating: 0, count: slots)
        for slot in 0..<slots where bytes.count >= 8 * (slot + 1) {
            var value: UInt64 = 0
            for i in 0..<8 { value |= UInt64(bytes[bytes.startIndex + 8 * slot + i]) << UInt64(8 * i) }
            counts[slot] = value
        }
        return counts
    }

    static func encode(_ counts: [UInt64]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 * counts.count)
        for value in counts {
            for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) }
        }
        return bytes
    }
}

/// The slots of the `.delivery` file, in file order.
public enum DeliverySlot: Int, CaseIterable, Sendable {
    /// Events the data plane accepted, by the drain or by forwarding.
    case events
    /// Their batch bodies' bytes, before compression.
    case bytes
    case batches
    /// Events the data plane refused (kept in `rejected/upstream.ndjson`).
    case refusedEvents
    /// Milliseconds since the epoch; 0 for never.
    case lastDeliveryMillis
    case lastFailureMillis
    /// A `DeliveryFailure` raw value; 0 for none.
    case lastFailureKind
    /// The data plane's HTTP status for the last failure; 0 when it gave
    /// none (a network error, a timeout).
    case lastFailureStatus
    /// Failures by kind (`DeliveryFailure`): every attempt the data plane
    /// did not take (retried ones too), every stop for a wrong URL or key,
    /// every batch of events it refused.
    case unavailableFailures
    case misdirectedFailures
    case refusedFailures
    /// Of `events`, those of each route (`RouteCounts`), counted since this
    /// version: a `.delivery` file from an earlier one has fewer slots, read
    /// as zeros.
    case pageEvents
    case trackEvents
    case clickEvents

    /// The count of events of `route` delivered.
    public static func events(_ route: PixelRoute) -> DeliverySlot {
        switch route {
        case .page: return .pageEvents
        case .track: return .trackEvents
        case .click: return .clickEvents
        }
    }

    /// The count of failures of `kind`.
    public static func failures(_ kind: DeliveryFailure) -> DeliverySlot {
        switch kind {
        case .unavailable: return .unavailableFailures
        case .misdirected: return .misdirectedFailures
        case .refused: return .refusedFailures
        }
    }
}

/// Why a delivery failed, as the `.delivery` file keeps it.
public enum DeliveryFailure: Int, Sendable, CaseIterable {
    /// The data plane could not be reached, timed out, or answered 5xx/429.
    case unavailable = 1
    /// The URL or the credentials are wrong (a redirect, 404, 401/403 for
    /// a listed key): nothing is sent until that is fixed.
    case misdirected = 2
    /// The data plane refused events for what they hold.
    case refused = 3

    public var name: String {
        switch self {
        case .unavailable: return "unavailable"
        case .misdirected: return "misdirected"
        case .refused: return "refused"
        }
    }
}

/// Events counted by the route their hit came by (`SpoolLine.route`), and
/// those whose line does not say (`unknown`).
public struct RouteCounts: Sendable, Equatable {
    public var page = 0
    public var track = 0
    public var click = 0
    public var unknown = 0

    public init() {}

    public subscript(_ route: PixelRoute) -> Int {
        switch route {
        case .page: return page
        case .track: return track
        case .click: return click
        }
    }

    public mutating func add(_ route: PixelRoute?) {
        switch route {
        case .page?: page += 1
        case .track?: track += 1
        case .click?: click += 1
        case nil: unknown += 1
        }
    }

    /// Counts the route of a spool line (without its newline), read from
    /// its two ends (`SpoolLine.routeOfLine`).
    public mutating func add(line: ArraySlice<UInt8>) {
        add(SpoolLine.routeOfLine(line))
    }

    public static func += (left: inout RouteCounts, right: RouteCounts) {
        left.page += right.page
        left.track += right.track
        left.click += right.click
        left.unknown += right.unknown
    }
}
