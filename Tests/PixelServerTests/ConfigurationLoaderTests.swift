import Foundation
import Testing
import PixelCore
#if canImport(Glibc)
import Glibc
#endif
@testable import PixelServer
import PixelSystem

/// Which settings file pixelgate reads, and which it refuses to: the
/// machine's file must not silently replace a shared-hosting account's own,
/// and no file someone else could swap is read.
@Suite("Choosing the settings file")
struct ConfigurationLoaderTests {
    final class Dir {
        let path = NSTemporaryDirectory() + "pixelgate-cfg-" + UUID().uuidString.prefix(8)
        init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func write(_ name: String, _ text: String, mode: mode_t = 0o644) -> String {
            let file = path + "/" + name
            try? FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
            chmod(file, mode)
            return file
        }
    }

    static func choose(_ environment: SettingValues, system: String, home: String?) -> ConfigurationLoader.ChosenFile? {
        var found = home.map { ConfigurationLoader.HomeDirectory(path: $0, user: "tester", isPrivate: true) }
        return ConfigurationLoader.settingsFile(environment, home: &found, systemPath: system)
    }

    @Test func theOrderOfFiles() {
        let dir = Dir()
        let home = dir.path + "/home"
        let account = dir.write("home/.config/pixelgate/pixelgate.conf", "PIXELGATE_WRITE_KEYS=onlythis\n")
        let machine = dir.write("etc/pixelgate.env", "PIXELGATE_SPOOL_DIR=/var/spool/pixelgate\n")
        let commentsOnly = dir.write("etc/comments.env", "# every setting at its default\n#PIXELGATE_SPOOL_DIR=/x\n")
        let other = dir.write("other.env", "PIXELGATE_SINK=spool\n")

        // PIXELGATE_CONFIG first; `none` reads nothing.
        #expect(Self.choose(["PIXELGATE_CONFIG": other], system: machine, home: home)?.path == other)
        #expect(Self.choose(["PIXELGATE_CONFIG": "none"], system: machine, home: home) == nil)
        // The machine's file when it names the spool, even beside an account's file.
        #expect(Self.choose([:], system: machine, home: home)?.path == machine)
        // …or when the environment does.
        #expect(Self.choose(["PIXELGATE_SPOOL_DIR": "/s"], system: commentsOnly, home: home)?.path == commentsOnly)
        // A machine file that names no spool does not replace the account's own.
        #expect(Self.choose([:], system: commentsOnly, home: home)?.path == account)
        // Nor does one the account may not read (here: missing, a dangling link).
        let dangling = dir.path + "/etc/dangling.env"
        #expect(symlink(dir.path + "/nowhere", dangling) == 0)
        #expect(Self.choose([:], system: dangling, home: home)?.path == account)
        // Without an account file the machine's file is read, problems and all.
        #expect(Self.choose([:], system: commentsOnly, home: dir.path + "/nohome")?.path == commentsOnly)
        let chosen = Self.choose([:], system: dangling, home: dir.path + "/nohome")
        #expect(chosen?.path == dangling)
        if case .failure(let why)? = chosen?.read { #expect(why.contains("No such file")) } else { Issue.record("a dangling link read as a file") }
        #expect(Self.choose([:], system: dir.path + "/absent.env", home: dir.path + "/nohome") == nil)
        // A machine file this user may not read, taken for want of another,
        // is not theirs: a warning and the defaults, not every hit a 500.
        var unreadable = try! #require(Self.choose([:], system: commentsOnly, home: dir.path + "/nohome"))
        unreadable.read = .failure(SystemError.reason(EACCES))
        let (_, problems) = ConfigurationLoader.resolve([:], unreadable)
        #expect(problems.count == 1 && problems.first?.isFatal == false, "\(problems)")
        // Named by PIXELGATE_CONFIG, or chosen for its spool, it is fatal.
        let named = ConfigurationLoader.ChosenFile(path: other, read: .failure(SystemError.reason(EACCES)))
        #expect(ConfigurationLoader.resolve([:], named).1.first?.isFatal == true)
    }

    @Test func filesAndDirectoriesOthersCouldSwapAreRefused() throws {
        let dir = Dir()
        chmod(dir.path, 0o755)
        let good = dir.write("good.env", "PIXELGATE_SINK=spool\n")
        guard case .success = ConfigurationLoader.readFile(good, limit: 1 << 20) else { Issue.record("a root-owned 0644 file in a 0755 directory was refused"); return }

        // A group's write counts as another's unless the group has no
        // member but the owner: www-data has the account www-data; the
        // group of the directory's owner alone does not.
        let ownGroup = getegid()
        for (mode, group, refused) in [(0o777, ownGroup, true), (0o1777, ownGroup, false), (0o775, 33, true), (0o775, ownGroup, false),
                                       (0o755, 33, false)] as [(mode_t, gid_t, Bool)] {
            let sub = dir.path + "/d\(String(mode, radix: 8))-\(group)"
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            let file = sub + "/p.env"
            FileManager.default.createFile(atPath: file, contents: Data("PIXELGATE_SINK=spool\n".utf8))
            chown(sub, geteuid(), group)
            chmod(sub, mode)
            let why = ConfigurationLoader.untrustedDirectory(on: file)
            #expect((why != nil) == refused, "directory mode \(String(mode, radix: 8)), group \(group): \(why ?? "accepted")")
        }
        // A link to a file in a directory others may write: the target's way counts.
        let open = dir.path + "/d777-\(ownGroup)/p.env"
        let link = dir.path + "/link.env"
        #expect(symlink(open, link) == 0)
        #expect(ConfigurationLoader.untrustedDirectory(on: link) != nil)
    }
}
