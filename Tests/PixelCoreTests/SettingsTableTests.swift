#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import PixelCore

/// The table of settings is the one list: these keep README, the defaults
/// people are told and `pixelgate check`'s texts equal to it.
@Suite("The table of settings")
struct SettingsTableTests {
    /// docs/configuration.md's `| variable | meaning | default |` table is `SettingsTable.markdownTable`, row by row. After
    /// changing a setting, paste `print(SettingsTable.markdownTable)` there.
    @Test func theDocumentedTableIsTheTable() throws {
        let doc = try #require(Self.readFile(Self.repositoryRoot + "/docs/configuration.md"), "docs/configuration.md not readable")
        let lines = doc.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = try #require(lines.firstIndex(of: "| variable | meaning | default |"),
                                  "no settings table in docs/configuration.md")
        let rows = lines[header...].prefix { $0.hasPrefix("|") }
        let expected = SettingsTable.markdownTable.split(separator: "\n").map(String.init)
        for (line, (readmeRow, tableRow)) in zip(rows, expected).enumerated() where readmeRow != tableRow {
            Issue.record("docs/configuration.md line \(header + line + 1) differs from SettingsTable: '\(readmeRow)', the table gives '\(tableRow)'")
            break
        }
        // With PIXELGATE_REGENERATE=1 the table is written in its place.
        let made = (lines[..<header] + expected + lines[(header + rows.count)...]).joined(separator: "\n")
        GeneratedSource.check(Self.repositoryRoot + "/docs/configuration.md", is: made, testName: "SettingsTableTests")
    }

    /// Names are unique, and `settingNames` is the table's.
    @Test func everyNameOnce() {
        let names = SettingsTable.settings.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(PixelConfiguration.settingNames == names)
        #expect(names.allSatisfy { $0.hasPrefix("PIXELGATE_") })
    }

    /// A default shown as a single code span is a value the setting takes,
    /// and gives just what leaving it unset gives: README cannot promise a
    /// default the code does not have.
    @Test(arguments: SettingsTable.settings.map(\.name))
    func aDefaultShownIsTheDefault(_ name: String) throws {
        let setting = try #require(SettingsTable.settings.first { $0.name == name })
        let text = setting.defaultText
        guard text.count > 2, text.first == "`", text.last == "`", !text.dropFirst().dropLast().contains("`") else {
            return  // prose (`none`, `empty: any`, the spool's home directory)
        }
        var config = PixelConfiguration()
        #expect(setting.apply(String(text.dropFirst().dropLast()), to: &config) == nil)
        #expect(setting.effectiveValue(in: config) == setting.effectiveValue(in: PixelConfiguration()))
    }

    /// The value texts `pixelgate check` printed before the table, which
    /// end-to-end tests and people's scripts read.
    @Test func checkShowsTheDefaultsAsBefore() {
        let shown = Dictionary(uniqueKeysWithValues: PixelConfiguration().effectiveSettings.map { ($0.name, $0.value) })
        #expect(shown == [
            "PIXELGATE_SPOOL_DIR": "", "PIXELGATE_SINK": "spool", "PIXELGATE_DATA_PLANE_URL": "",
            "PIXELGATE_WRITE_KEYS": "", "PIXELGATE_SIGNING_KEYS": "", "PIXELGATE_RESPONSE": "text",
            "PIXELGATE_TRUSTED_PROXIES": "", "PIXELGATE_HIT_CLASSES": "human=record,mail-proxy=mark,prefetch=mark,bot=mark",
            "PIXELGATE_CONSENT": "record", "PIXELGATE_DERIVE_ANONYMOUS_ID": "off", "PIXELGATE_CLASS_HEADER": "off",
            "PIXELGATE_ADDRESS_RANGES": "", "PIXELGATE_ANONYMIZE_IP": "off", "PIXELGATE_EARLY_CLICK": "5000ms",
            "PIXELGATE_SECRET_PARAMETERS": "password,passwd,pwd,passphrase,secret,token,api_key,access_key,private_key,authorization,credential,sessionid,sessid,csrf,cardnumber,cvv,cvc",
            "PIXELGATE_MAX_QUERY_BYTES": "16384", "PIXELGATE_MAX_PAIRS": "256",
            "PIXELGATE_MAX_KEY_BYTES": "256", "PIXELGATE_MAX_DEPTH": "16", "PIXELGATE_MAX_ARRAY_INDEX": "255",
            "PIXELGATE_MAX_EVENT_BYTES": "65536", "PIXELGATE_SEAL_BYTES": "8388608", "PIXELGATE_SEAL_SECONDS": "60",
            "PIXELGATE_FSYNC": "never", "PIXELGATE_REJECTED_MAX_BYTES": "67108864",
            "PIXELGATE_REQUEST_TIMEOUT": "5000ms", "PIXELGATE_FORWARD_TIMEOUT": "2000ms",
            "PIXELGATE_BATCH_BYTES": "524288", "PIXELGATE_GZIP": "on",
            "PIXELGATE_LOG_LEVEL": "info", "PIXELGATE_LOG_REFUSED": "all",
        ])
    }

    /// packaging/pixelgate.env, which the package installs as
    /// /etc/pixelgate/pixelgate.env and the tarball carries, is
    /// `ExampleSettingsFile.text`: after changing a setting, write
    /// `ExampleSettingsFile.text` there.
    @Test func theShippedSettingsFileIsTheTables() throws {
        let shipped = try #require(Self.readFile(Self.repositoryRoot + "/packaging/pixelgate.env"), "packaging/pixelgate.env not readable")
        let shippedLines = shipped.split(separator: "\n", omittingEmptySubsequences: false)
        let expectedLines = ExampleSettingsFile.text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, (a, b)) in zip(shippedLines, expectedLines).enumerated() where a != b {
            Issue.record("packaging/pixelgate.env line \(i + 1) is '\(a)', the table gives '\(b)'")
            break
        }
        GeneratedSource.check(Self.repositoryRoot + "/packaging/pixelgate.env", is: ExampleSettingsFile.text, testName: "SettingsTableTests")
    }

    /// Every setting is in the file; read as it ships it gives the spool and
    /// nothing else, and with every line uncommented it gives the defaults,
    /// without a problem: the file promises no default the code lacks.
    @Test func theExampleFileHoldsEverySettingAtItsDefault() {
        let text = ExampleSettingsFile.text
        for setting in SettingsTable.settings {
            #expect(text.contains("\n#\(setting.name)=") || text.contains("\n\(setting.name)="), "\(setting.name) missing")
        }
        let (asShipped, shippedProblems) = PixelConfiguration.resolve(environment: [:], fileText: text, fileName: "pixelgate.env")
        #expect(shippedProblems.isEmpty)
        #expect(asShipped.spoolDirectory == ExampleSettingsFile.systemSpool)
        #expect(asShipped.sources.names == ["PIXELGATE_SPOOL_DIR"])

        let uncommented = text.split(separator: "\n").map { $0.hasPrefix("#PIXELGATE_") ? String($0.dropFirst()) : String($0) }.joined(separator: "\n")
        let (everything, problems) = PixelConfiguration.resolve(environment: [:], fileText: uncommented, fileName: "pixelgate.env")
        #expect(problems.isEmpty, "\(problems)")
        #expect(everything.sources.count == SettingsTable.settings.count)
        var expected = PixelConfiguration()
        expected.spoolDirectory = ExampleSettingsFile.systemSpool
        #expect(everything.effectiveSettings.map(\.value) == expected.effectiveSettings.map(\.value))
    }

    @Test func logSettings() {
        let (config, problems) = PixelConfiguration.resolve(environment: ["PIXELGATE_LOG_LEVEL": " Warn ", "PIXELGATE_LOG_REFUSED": "100"])
        #expect(problems.isEmpty)
        #expect(config.logLevel == .warn)
        #expect(config.refusedLogging == .oneIn(100))
        #expect(PixelConfiguration.resolve(environment: ["PIXELGATE_LOG_REFUSED": "none"]).0.refusedLogging == RefusedLogging.none)
        #expect(PixelConfiguration.resolve(environment: ["PIXELGATE_LOG_REFUSED": "1"]).0.refusedLogging == .all)
        for bad in ["0", "-3", "some", "1.5", "1000001"] {
            let (_, problems) = PixelConfiguration.resolve(environment: ["PIXELGATE_LOG_REFUSED": bad])
            #expect(problems.map(\.setting) == ["PIXELGATE_LOG_REFUSED"], "\(bad)")
        }
        let (_, levelProblems) = PixelConfiguration.resolve(environment: ["PIXELGATE_LOG_LEVEL": "verbose"])
        #expect(levelProblems.first?.message == "must be debug, info, warn or error, got 'verbose'")
    }

    /// A data plane URL with /v1/batch on it would post to
    /// /v1/batch/v1/batch: a warning, not a refusal, in every mode.
    @Test func aBatchPathInTheDataPlaneURLIsWarnedAbout() {
        for url in ["https://dp.example.com/v1/batch", "https://dp.example.com/v1/batch/", "https://dp.example.com/V1/Batch?x=1"] {
            let (_, problems) = PixelConfiguration.resolve(environment: ["PIXELGATE_DATA_PLANE_URL": url])
            #expect(problems.count == 1 && problems.first?.isFatal == false && problems.first?.setting == "PIXELGATE_DATA_PLANE_URL", "\(url)")
        }
        for url in ["https://dp.example.com", "https://dp.example.com/v1/batches", "https://dp.example.com/rudder/"] {
            #expect(PixelConfiguration.resolve(environment: ["PIXELGATE_DATA_PLANE_URL": url]).1.isEmpty, "\(url)")
        }
    }

    @Test func checkShowsSetValuesAsBeforeAndHidesSecrets() {
        let (config, problems) = PixelConfiguration.resolve(environment: [
            "PIXELGATE_SPOOL_DIR": "/srv/spool", "PIXELGATE_SINK": "Forward",
            "PIXELGATE_DATA_PLANE_URL": "https://u:pw@dp.example.com", "PIXELGATE_WRITE_KEYS": "a,b",
            "PIXELGATE_SIGNING_KEYS": "a:0123456789abcdef", "PIXELGATE_RESPONSE": "gif",
            "PIXELGATE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8, ::1", "PIXELGATE_MAX_QUERY_BYTES": "8k",
            "PIXELGATE_MAX_PAIRS": "10", "PIXELGATE_MAX_KEY_BYTES": "64", "PIXELGATE_MAX_DEPTH": "4",
            "PIXELGATE_MAX_ARRAY_INDEX": "0", "PIXELGATE_MAX_EVENT_BYTES": "1k", "PIXELGATE_SEAL_BYTES": "1M",
            "PIXELGATE_SEAL_SECONDS": "1500ms", "PIXELGATE_FSYNC": "2000ms", "PIXELGATE_REJECTED_MAX_BYTES": "0",
            "PIXELGATE_REQUEST_TIMEOUT": "1m", "PIXELGATE_FORWARD_TIMEOUT": "250ms", "PIXELGATE_BATCH_BYTES": "1024",
            "PIXELGATE_GZIP": "no", "PIXELGATE_HIT_CLASSES": "bot=drop", "PIXELGATE_CONSENT": "drop",
            "PIXELGATE_ANONYMIZE_IP": "on", "PIXELGATE_SECRET_PARAMETERS": "pin, otp",
            "PIXELGATE_DERIVE_ANONYMOUS_ID": "Daily", "PIXELGATE_CLASS_HEADER": "on", "PIXELGATE_EARLY_CLICK": "30",
            "PIXELGATE_ADDRESS_RANGES": "/etc/pixelgate/address-ranges.txt",
            "PIXELGATE_LOG_LEVEL": "error", "PIXELGATE_LOG_REFUSED": "none",
        ])
        #expect(problems.isEmpty, "\(problems)")
        #expect(config.effectiveSettings.map { "\($0.name)=\($0.value)" } == [
            "PIXELGATE_SPOOL_DIR=/srv/spool", "PIXELGATE_SINK=forward",
            "PIXELGATE_DATA_PLANE_URL=https://***@dp.example.com", "PIXELGATE_WRITE_KEYS=(2 keys)",
            "PIXELGATE_SIGNING_KEYS=(1 keys, secrets not shown)", "PIXELGATE_RESPONSE=gif",
            "PIXELGATE_TRUSTED_PROXIES=127.0.0.1/32,10.0.0.0/8,0:0:0:0:0:0:0:1/128",
            "PIXELGATE_HIT_CLASSES=human=record,mail-proxy=mark,prefetch=mark,bot=drop", "PIXELGATE_CONSENT=drop",
            "PIXELGATE_DERIVE_ANONYMOUS_ID=daily", "PIXELGATE_CLASS_HEADER=on", "PIXELGATE_ADDRESS_RANGES=/etc/pixelgate/address-ranges.txt", "PIXELGATE_ANONYMIZE_IP=on", "PIXELGATE_SECRET_PARAMETERS=pin,otp", "PIXELGATE_MAX_QUERY_BYTES=8192",
            "PIXELGATE_MAX_PAIRS=10", "PIXELGATE_MAX_KEY_BYTES=64", "PIXELGATE_MAX_DEPTH=4",
            "PIXELGATE_MAX_ARRAY_INDEX=0", "PIXELGATE_MAX_EVENT_BYTES=1024", "PIXELGATE_SEAL_BYTES=1048576",
            "PIXELGATE_SEAL_SECONDS=1", "PIXELGATE_FSYNC=2s", "PIXELGATE_REJECTED_MAX_BYTES=0",
            "PIXELGATE_REQUEST_TIMEOUT=60000ms", "PIXELGATE_EARLY_CLICK=30000ms", "PIXELGATE_FORWARD_TIMEOUT=250ms", "PIXELGATE_BATCH_BYTES=1024",
            "PIXELGATE_GZIP=off", "PIXELGATE_LOG_LEVEL=error", "PIXELGATE_LOG_REFUSED=none",
        ])
        #expect(!config.effectiveSettings.contains { $0.value.contains("0123456789abcdef") || $0.value.contains("pw") })
    }

    /// Bounds named in messages read back as the bounds themselves.
    @Test(arguments: [Int64(1), 50, 100, 999, 1000, 60_000, 300_000, 3_600_000, 86_400_000, 90_061_000])
    func durationTextsReadBack(_ millis: Int64) {
        #expect(SettingText.durationMillis(SettingText.duration(millis: millis), defaultUnit: nil) == millis)
    }

    /// The repository's root: this file is Tests/PixelCoreTests/<name>.swift.
    static var repositoryRoot: String {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }

    static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n == 0 { break }
            bytes += chunk[..<n]
        }
        return ferror(file) == 0 ? String(decoding: bytes, as: UTF8.self) : nil
    }
}

extension SettingsTableTests {
    /// Keywords and switches read the same from the environment as from the
    /// config file (which trims): a `SetEnv` with a stray space or a capital
    /// must not turn into a fatal problem or a wrong value.
    @Test func keywordsAndSwitchesIgnoreCaseAndSpaces() {
        let (config, problems) = PixelConfiguration.resolve(environment: [
            "PIXELGATE_SINK": " Forward ", "PIXELGATE_DATA_PLANE_URL": "https://dp.example.com", "PIXELGATE_RESPONSE": "GIF\t",
            "PIXELGATE_GZIP": " off", "PIXELGATE_FSYNC": "Always ", "PIXELGATE_CONSENT": " Drop", "PIXELGATE_ANONYMIZE_IP": "YES",
        ])
        #expect(problems.isEmpty, "\(problems)")
        #expect(config.sink == .forward && config.response == .gif && !config.gzip && config.spool.fsync == .always
            && config.consent == .drop && config.anonymizeIP)
        let (_, bad) = PixelConfiguration.resolve(environment: ["PIXELGATE_RESPONSE": "png", "PIXELGATE_GZIP": "maybe"])
        #expect(bad.map(\.message).sorted() == ["must be on or off, got 'maybe'", "must be text, gif or gif-always, got 'png'"])
    }
}
