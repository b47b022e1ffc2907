#if canImport(Glibc)
import Glibc
#endif

/// The password database.
public enum Users {
    /// A user's entry: name and home directory.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var home: String?
        /// The account's primary group.
        public var group: UInt32 = 0
    }

    /// The entry of `uid`, or nil when it has none (a container's bare
    /// uid). The corresponding C function is `getpwuid_r(3)`.
    public static func entry(of uid: UInt32) -> Entry? {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var size = 4096
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &found)
            if status == ERANGE && size < 1 << 20 {
                size *= 4
                continue
            }
            guard status == 0, let found else { return nil }
            return Entry(name: found.pointee.pw_name.map { String(cString: $0) } ?? "uid \(uid)",
                         home: found.pointee.pw_dir.map { String(cString: $0) }, group: found.pointee.pw_gid)
        }
    }

    /// A user's name for messages: from the database, else `uid N`.
    public static func name(of uid: UInt32) -> String {
        entry(of: uid)?.name ?? "uid \(uid)"
    }
}

/// The group database.
public enum Groups {
    /// The id of the group `name` (or a number, taken as the id), or nil
    /// when there is no such group. The corresponding C function is
    /// `getgrnam_r(3)`.
    public static func id(of name: String) -> UInt32? {
        if !name.isEmpty, name.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return UInt32(name) }
        var entry = group()
        var found: UnsafeMutablePointer<group>?
        var size = 4096
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let status = getgrnam_r(name, &entry, &buffer, buffer.count, &found)
            if status == ERANGE && size < 1 << 22 {
                size *= 4
                continue
            }
            guard status == 0, let found else { return nil }
            return found.pointee.gr_gid
        }
    }

    /// The name of group `gid` for messages, else `gid N`.
    public static func name(of gid: UInt32) -> String {
        var entry = group()
        var found: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 1 << 16)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &found) == 0, let found, let name = found.pointee.gr_name else { return "gid \(gid)" }
        return String(cString: name)
    }

    /// Whether group `gid` is the account `uid`'s own: its primary group,
    /// named as the account is, listing no other member (Debian's user
    /// private groups). Only then is a file or directory that group may
    /// write trusted as `uid`'s alone: a `users` group, Plesk's `psacln` or
    /// a panel's umask 002 share one group among accounts, and a directory
    /// service need not list every account whose group it is. The
    /// corresponding C functions are `getpwuid_r(3)` and `getgrgid_r(3)`.
    public static func hasNoMemberBut(_ uid: UInt32, gid: UInt32) -> Bool {
        guard let owner = Users.entry(of: uid), owner.group == gid else { return false }
        var entry = group()
        var found: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 1 << 16)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &found) == 0, let found,
              let name = found.pointee.gr_name, String(cString: name) == owner.name else { return false }
        if var member = found.pointee.gr_mem {
            while let listed = member.pointee {
                if String(cString: listed) != owner.name { return false }
                member += 1
            }
        }
        return true
    }
}
