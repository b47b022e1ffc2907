/// How the spool seals, syncs and caps its files.
///
/// The `…Bounds` beside each field are the values its setting may give it,
/// and say why.
public struct SpoolSettings: Sendable, Equatable {
    /// The active file is sealed once it reaches this size (default 8 MiB).
    public var sealBytes: Int = 8 * 1024 * 1024
    /// `PIXELGATE_SEAL_BYTES` may give 4 KiB to 1 GiB. Smaller files would
    /// mean a file (and a rename, and a drain pass) for every few events;
    /// larger ones, a drain holding more than a GiB, since it reads a sealed
    /// file whole.
    public static let sealBytesBounds: ClosedRange<Int> = 4096...(1 << 30)

    /// …or once it is this old, in seconds (default 60).
    public var sealSeconds: Int = 60
    /// `PIXELGATE_SEAL_SECONDS` may give 1 second to 24 hours (a duration,
    /// read to whole seconds): events wait at most this long for the drain,
    /// and a day is already far past what a tracking pixel's events can wait.
    public static let sealSecondsBounds: ClosedRange<Int> = 1...86_400

    public var fsync: FsyncPolicy = .never
    /// The intervals `PIXELGATE_FSYNC` may give, in milliseconds: more than
    /// zero (a sync after every event is `always`) and at most an hour (a
    /// longer one would promise little more than `never` does).
    public static let fsyncIntervalMillisBounds: ClosedRange<Int64> = 1...3_600_000

    /// Total size kept of rejected hits; past it new ones are only logged
    /// (default 64 MiB), so no client can fill the disk through them.
    public var rejectedMaxBytes: Int = 64 * 1024 * 1024
    /// `PIXELGATE_REJECTED_MAX_BYTES` may give 0 (log them only, keep none)
    /// to 1 TiB; a larger number is a slip, not a size any spool can hold.
    public static let rejectedMaxBytesBounds: ClosedRange<Int> = 0...(1 << 40)

    /// How long an append waits for the spool's lock before it fails (and
    /// the hit is answered 503): the request timeout for hits
    /// (`ResponderAssembly`), so a lock someone holds on cannot hold hits.
    public var lockWaitMillis: Int64 = 5000

    /// The most a sealed file can hold under these settings: the seal size
    /// and the largest line the append that crosses it may add (an event
    /// of at most 3.9 MB, in its record). A larger file was not made by a
    /// seal here: the drain sets it aside unread, and requeue refuses to
    /// make one.
    public var largestSealedBytes: Int { sealBytes + 8 * 1024 * 1024 }

    public init() {}
}
