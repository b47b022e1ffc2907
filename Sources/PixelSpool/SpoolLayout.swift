import PixelCore

/// The names inside a spool directory.
///
/// Accepted events live in `*.ndjson` files at the top level: the active
/// file every writer appends to, and sealed files that no writer touches
/// again. Refused hits live in `rejected/*.ndjson`. Everything else (the
/// lock, the sync stamp) has a name that does not end in `.ndjson`.
public struct SpoolLayout: Sendable {
    public let directory: String

    /// `directory` with doubled and trailing slashes removed (`/srv//spool/`
    /// is `/srv/spool`), by bytes, as the kernel and the spool's checks read
    /// a path (a `/` before a combining mark is still a separator).
    public init(directory: String) {
        // Nearly always written clean: taken as it is after one pass over
        // its bytes (cleaning it by `Character` cost a CGI start 12,000
        // instructions).
        var last: UInt8 = 0
        var doubled = false
        for byte in directory.utf8 {
            if byte == UInt8(ascii: "/") && last == byte { doubled = true }
            last = byte
        }
        if !doubled && (last != UInt8(ascii: "/") || directory.utf8.count == 1) {
            self.directory = directory
            return
        }
        var cleaned: [UInt8] = []
        for byte in directory.utf8 where !(byte == UInt8(ascii: "/") && cleaned.last == byte) { cleaned.append(byte) }
        while cleaned.count > 1 && cleaned.last == UInt8(ascii: "/") { cleaned.removeLast() }
        self.directory = String(decoding: cleaned, as: UTF8.self)
    }

    /// The file all writers append to until it is sealed.
    public var activeFile: String { directory + "/" + SpoolLayout.activeName }

    // The names of the files below, as a pinned spool directory opens them.
    public static let lockName = ".lock"
    public static let syncStampName = ".synced"
    public static let dropCountsName = ".dropped"
    public static let refusedCountsName = ".refused"
    public static let unstoredCountsName = ".unstored"
    public static let deliveryName = ".delivery"
    /// The day's secret for derived anonymous ids (`SpoolWriter.dailySecret`).
    public static let dailySecretName = ".daily-secret"
    public static let rejectedName = "rejected"
    /// Taken (flock) around every append and every seal. Its mtime is the
    /// moment the active file was created, which is how age-based sealing
    /// knows the active file's age (Linux has no portable birth time).
    public var lockFile: String { directory + "/" + SpoolLayout.lockName }
    /// Its mtime is the last fdatasync under the interval fsync policy.
    public var syncStampFile: String { directory + "/" + SpoolLayout.syncStampName }
    /// Counts of hits answered but not stored by choice (`DroppedHit`).
    public var dropCountsFile: String { directory + "/" + SpoolLayout.dropCountsName }
    /// Counts of refused hits by reason (`PixelError.refusalCodes`).
    public var refusedCountsFile: String { directory + "/" + SpoolLayout.refusedCountsName }
    /// Counts of accepted hits answered 503 or 500 (`UnstoredHit`).
    public var unstoredCountsFile: String { directory + "/" + SpoolLayout.unstoredCountsName }
    /// Delivery totals and the times of the last delivery and failure (`DeliverySlot`).
    public var deliveryFile: String { directory + "/" + SpoolLayout.deliveryName }
    public var rejectedDirectory: String { directory + "/" + SpoolLayout.rejectedName }
    public var rejectedFile: String { rejectedDirectory + "/" + SpoolLayout.rejectedHitsName }
    /// Refused hits (SPEC §7).
    public static let rejectedHitsName = "hits.ndjson"
    /// Events the data plane refused, with its answer.
    public static let rejectedUpstreamName = "upstream.ndjson"
    /// Lines the drain could not read as events (a writer killed mid-line).
    public static let setAsideName = "unreadable.ndjson"

    /// The drain's progress through a sealed file: the offset delivered up to.
    public static func progressName(of sealed: String) -> String { "." + sealed + ".progress" }

    /// Held (flock) by the drain at work on this spool.
    public static let drainLockName = ".drain.lock"

    public static let activeName = "current.ndjson"
    public static let sealedPrefix = "sealed-"
    public static let suffix = ".ndjson"

    /// A sealed file's name: sorts by seal time (to the nanosecond, since
    /// seals are serialized by the lock), unique across processes.
    public static func sealedName(nanos: Int64, pid: Int32, random: UInt32) -> String {
        let millis = nanos / 1_000_000
        var time = ISO8601.compact(millis: millis)
        let subMillis = String(nanos % 1_000_000)
        time.insert(contentsOf: String(repeating: "0", count: 6 - subMillis.count) + subMillis, at: time.index(before: time.endIndex))
        let r = String(random, radix: 16)
        return "\(sealedPrefix)\(time)-\(pid)-\(String(repeating: "0", count: 8 - r.count))\(r)\(suffix)"
    }

    public static func isSealed(_ name: String) -> Bool {
        name.hasPrefix(sealedPrefix) && name.hasSuffix(suffix)
    }
}
