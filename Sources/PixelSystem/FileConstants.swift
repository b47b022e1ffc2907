#if canImport(Glibc)
import Glibc
#endif

// The constants of the file calls, by name, so that the modules above
// PixelSystem never import Glibc: what they pass to `Sys` and read back
// from it is spelled here. Computed and inlinable: no lazy global on the
// request path.

/// A file's metadata as `Sys.fstat` and friends return it (`struct stat`).
public typealias FileStatus = stat

/// The flags of open(2).
public enum OpenFlag {
    @inlinable public static var readOnly: Int32 { O_RDONLY }
    @inlinable public static var writeOnly: Int32 { O_WRONLY }
    @inlinable public static var readWrite: Int32 { O_RDWR }
    @inlinable public static var create: Int32 { O_CREAT }
    /// With `create`: fail when the name exists (a link included).
    @inlinable public static var exclusive: Int32 { O_EXCL }
    @inlinable public static var append: Int32 { O_APPEND }
    @inlinable public static var directory: Int32 { O_DIRECTORY }
    @inlinable public static var nonBlocking: Int32 { O_NONBLOCK }
}

/// The type and permission bits of a file's mode (`st_mode`).
public enum ModeBits {
    /// The bits that hold the file's type.
    @inlinable public static var typeMask: UInt32 { S_IFMT }
    @inlinable public static var directory: UInt32 { S_IFDIR }
    @inlinable public static var regular: UInt32 { S_IFREG }
    @inlinable public static var symbolicLink: UInt32 { S_IFLNK }
    /// Others may write.
    @inlinable public static var othersWrite: UInt32 { S_IWOTH }
    @inlinable public static var groupWrite: UInt32 { S_IWGRP }
    /// The sticky bit: in a directory, only an entry's owner may remove it.
    @inlinable public static var sticky: UInt32 { S_ISVTX }
    /// In a directory: new entries take the directory's group.
    @inlinable public static var setGroupID: UInt32 { S_ISGID }
}

/// The errno values callers tell apart.
public enum Errno {
    @inlinable public static var noEntry: Int32 { ENOENT }
    @inlinable public static var notDirectory: Int32 { ENOTDIR }
    /// Too many links, or a link where `O_NOFOLLOW` refused one.
    @inlinable public static var loop: Int32 { ELOOP }
    @inlinable public static var invalid: Int32 { EINVAL }
    @inlinable public static var exists: Int32 { EEXIST }
    @inlinable public static var fileTooBig: Int32 { EFBIG }
    @inlinable public static var permission: Int32 { EPERM }
    @inlinable public static var accessDenied: Int32 { EACCES }
    @inlinable public static var noSpace: Int32 { ENOSPC }
    @inlinable public static var wouldBlock: Int32 { EWOULDBLOCK }
}

/// flock(2)'s operations.
public enum FileLock {
    @inlinable public static var exclusive: Int32 { LOCK_EX }
    @inlinable public static var shared: Int32 { LOCK_SH }
    @inlinable public static var unlock: Int32 { LOCK_UN }
}
