/// How the spool seals, syncs and caps its files.
public struct SpoolSettings: Sendable, Equatable {
    /// The active file is sealed once it reaches this size (default 8 MiB).
    public var sealBytes: Int = 8 * 1024 * 1024
    /// …or once it is this old, in seconds (default 60).
    public var sealSeconds: Int = 60
    public var fsync: FsyncPolicy = .never
    /// Total size kept of rejected hits; past it new ones are only logged
    /// (default 64 MiB), so no client can fill the disk through them.
    public var rejectedMaxBytes: Int = 64 * 1024 * 1024

    public init() {}
}
