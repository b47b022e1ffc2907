import Testing
@testable import PixelCore

@Suite("Configuration (SPEC §8)")
struct ConfigurationTests {
    @Test func defaultsNeedNoSetUp() {
        let (config, problems) = PixelConfiguration.resolve(environment: [:])
        #expect(problems.isEmpty)
        #expect(config.spoolDirectory.isEmpty)  // the loader gives the user's own default
        #expect(config.sink == .spool)
        #expect(config.response == .text)
        #expect(config.writeKeys.isEmpty)
        #expect(config.trustedProxies.isEmpty)
        #expect(config.limits == .default)
        #expect(config.spool.fsync == .never)
    }

    /// The default spool is under the user's own home, which no other
    /// local user can create first; a user without a private home (Debian's
    /// www-data, whose /var/www is root's) is told to set one.
    @Test func theDefaultSpoolIsInTheUsersOwnHome() throws {
        #expect(try PixelConfiguration.defaultSpoolDirectory(home: "/home/ann", homeIsPrivate: true, user: "ann").get()
                == "/home/ann/.local/state/pixelgate")
        #expect(try PixelConfiguration.defaultSpoolDirectory(home: "/", homeIsPrivate: true, user: "root").get()
                == "/.local/state/pixelgate")
        for (home, isPrivate) in [("/var/www", false), ("relative", true), (nil, false)] as [(String?, Bool)] {
            switch PixelConfiguration.defaultSpoolDirectory(home: home, homeIsPrivate: isPrivate, user: "www-data") {
            case .success(let path): Issue.record("\(String(describing: home)) gave \(path)")
            case .failure(let problem):
                #expect(problem.isFatal && problem.setting == "PIXELGATE_SPOOL_DIR")
                #expect(problem.message.contains("install -d -m 2770"), "\(problem.message)")
            }
        }
    }

    @Test func readsEveryNamedSetting() {
        let (config, problems) = PixelConfiguration.resolve(environment: [
            "PIXELGATE_SPOOL_DIR": "/srv/spool",
            "PIXELGATE_WRITE_KEYS": " k1, k2 ,,",
            "PIXELGATE_RESPONSE": "gif-always",
            "PIXELGATE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
            "PIXELGATE_DATA_PLANE_URL": "https://dp.example.com",
            "PIXELGATE_MAX_QUERY_BYTES": "8k",
            "PIXELGATE_MAX_PAIRS": "100",
            "PIXELGATE_SEAL_BYTES": "1M",
            "PIXELGATE_SEAL_SECONDS": "2m",
            "PIXELGATE_FSYNC": "250ms",
            "PIXELGATE_REJECTED_MAX_BYTES": "0",
            "PIXELGATE_MAX_EVENT_BYTES": "128k",
        ])
        #expect(problems.isEmpty)
        #expect(config.spoolDirectory == "/srv/spool")
        #expect(config.writeKeys == ["k1", "k2"])
        #expect(config.response == .gifAlways)
        #expect(config.trustedProxies.count == 2)
        #expect(config.dataPlaneURL == "https://dp.example.com")
        #expect(config.limits.maxQueryBytes == 8192)
        #expect(config.limits.maxPairs == 100)
        #expect(config.spool.sealBytes == 1 << 20)
        #expect(config.spool.sealSeconds == 120)
        #expect(config.spool.fsync == .interval(millis: 250))
        #expect(config.spool.rejectedMaxBytes == 0)
        #expect(config.limits.maxEventBytes == 128 * 1024)
    }

    @Test(arguments: [
        ("PIXELGATE_SPOOL_DIR", "relative/dir"),
        ("PIXELGATE_SINK", "kafka"),
        ("PIXELGATE_RESPONSE", "png"),
        ("PIXELGATE_TRUSTED_PROXIES", "10.0.0.0/99"),
        ("PIXELGATE_MAX_PAIRS", "lots"),
        ("PIXELGATE_FSYNC", "sometimes"),
        ("PIXELGATE_SEAL_SECONDS", "0"),
        ("PIXELGATE_DATA_PLANE_URL", "ftp://x"),
        // The data plane refuses requests over 4,000 KB: an event limit past that could accept undeliverable events.
        ("PIXELGATE_MAX_EVENT_BYTES", "4000k"),
        ("PIXELGATE_MAX_EVENT_BYTES", "1000"),
    ])
    func badValuesAreNamedAndFatal(_ setting: (String, String)) {
        let (_, problems) = PixelConfiguration.resolve(environment: [setting.0: setting.1])
        #expect(problems.count == 1)
        #expect(problems.first?.setting == setting.0)
        #expect(problems.first?.isFatal == true)
        #expect(problems.first?.message.contains(setting.1) == true)
    }

    /// Each bound, and the words that name it, as they were when the bounds
    /// were literals in the resolver: the named bounds changed neither.
    @Test(arguments: [
        ("PIXELGATE_MAX_QUERY_BYTES", "63", "must be a whole number from 64 to 1048576, got '63'"),
        ("PIXELGATE_MAX_QUERY_BYTES", "1025k", "must be a whole number from 64 to 1048576, got '1025k'"),
        ("PIXELGATE_MAX_PAIRS", "0", "must be a whole number from 1 to 10000, got '0'"),
        ("PIXELGATE_MAX_PAIRS", "10001", "must be a whole number from 1 to 10000, got '10001'"),
        ("PIXELGATE_MAX_KEY_BYTES", "7", "must be a whole number from 8 to 4096, got '7'"),
        ("PIXELGATE_MAX_KEY_BYTES", "4097", "must be a whole number from 8 to 4096, got '4097'"),
        ("PIXELGATE_MAX_DEPTH", "0", "must be a whole number from 1 to 64, got '0'"),
        ("PIXELGATE_MAX_DEPTH", "65", "must be a whole number from 1 to 64, got '65'"),
        ("PIXELGATE_MAX_ARRAY_INDEX", "-1", "must be a whole number from 0 to 10000, got '-1'"),
        ("PIXELGATE_MAX_ARRAY_INDEX", "10001", "must be a whole number from 0 to 10000, got '10001'"),
        ("PIXELGATE_MAX_EVENT_BYTES", "1023", "must be a whole number from 1024 to 3900000, got '1023'"),
        ("PIXELGATE_MAX_EVENT_BYTES", "3900001", "must be a whole number from 1024 to 3900000, got '3900001'"),
        ("PIXELGATE_SEAL_BYTES", "4095", "must be a whole number from 4096 to 1073741824, got '4095'"),
        ("PIXELGATE_SEAL_BYTES", "2G", "must be a whole number from 4096 to 1073741824, got '2G'"),
        ("PIXELGATE_REJECTED_MAX_BYTES", "1099511627777", "must be a whole number from 0 to 1099511627776, got '1099511627777'"),
        ("PIXELGATE_BATCH_BYTES", "1023", "must be a whole number from 1024 to 3800000, got '1023'"),
        ("PIXELGATE_BATCH_BYTES", "3800001", "must be a whole number from 1024 to 3800000, got '3800001'"),
        ("PIXELGATE_SEAL_SECONDS", "999ms", "must be a duration from 1s to 24h, got '999ms'"),
        ("PIXELGATE_SEAL_SECONDS", "86401", "must be a duration from 1s to 24h, got '86401'"),
        ("PIXELGATE_FORWARD_TIMEOUT", "49ms", "must be a duration from 50ms to 60s, got '49ms'"),
        ("PIXELGATE_FORWARD_TIMEOUT", "61", "must be a duration from 50ms to 60s, got '61'"),
        ("PIXELGATE_REQUEST_TIMEOUT", "99ms", "must be a duration from 100ms to 300s, got '99ms'"),
        ("PIXELGATE_REQUEST_TIMEOUT", "301s", "must be a duration from 100ms to 300s, got '301s'"),
        ("PIXELGATE_FSYNC", "0ms", "must be never, always or an interval such as 1s or 250ms, got '0ms'"),
        ("PIXELGATE_FSYNC", "61m", "must be never, always or an interval such as 1s or 250ms, got '61m'"),
        ("PIXELGATE_FSYNC", "5", "must be never, always or an interval such as 1s or 250ms, got '5'"),
        ("PIXELGATE_GZIP", "maybe", "must be on or off, got 'maybe'"),
    ])
    func outOfBoundsValuesAreToldTheBounds(_ c: (String, String, String)) {
        let (_, problems) = PixelConfiguration.resolve(environment: [c.0: c.1])
        #expect(problems == [ConfigurationProblem(setting: c.0, message: c.2, isFatal: true)])
    }

    /// The bounds themselves are taken, with spaces or tabs around them.
    @Test(arguments: [
        ("PIXELGATE_MAX_QUERY_BYTES", "64"), ("PIXELGATE_MAX_QUERY_BYTES", "1M"), ("PIXELGATE_MAX_PAIRS", " 1"),
        ("PIXELGATE_MAX_PAIRS", "10000"), ("PIXELGATE_MAX_KEY_BYTES", "8"), ("PIXELGATE_MAX_KEY_BYTES", "4k"),
        ("PIXELGATE_MAX_DEPTH", "1"), ("PIXELGATE_MAX_DEPTH", "64"), ("PIXELGATE_MAX_ARRAY_INDEX", "0"),
        ("PIXELGATE_MAX_ARRAY_INDEX", "10000"), ("PIXELGATE_MAX_EVENT_BYTES", "1k"), ("PIXELGATE_MAX_EVENT_BYTES", "3900000"),
        ("PIXELGATE_SEAL_BYTES", "4k"), ("PIXELGATE_SEAL_BYTES", "1G"), ("PIXELGATE_REJECTED_MAX_BYTES", "1099511627776"),
        ("PIXELGATE_BATCH_BYTES", "1k"), ("PIXELGATE_BATCH_BYTES", "3800000"), ("PIXELGATE_SEAL_SECONDS", "1s"),
        ("PIXELGATE_SEAL_SECONDS", "24h"), ("PIXELGATE_FORWARD_TIMEOUT", "50ms"), ("PIXELGATE_FORWARD_TIMEOUT", "60"),
        ("PIXELGATE_REQUEST_TIMEOUT", "100ms\t"), ("PIXELGATE_REQUEST_TIMEOUT", "5m"), ("PIXELGATE_FSYNC", "1ms"),
        ("PIXELGATE_FSYNC", "1h"),
    ])
    func boundsAreTaken(_ c: (String, String)) {
        let (_, problems) = PixelConfiguration.resolve(environment: [c.0: c.1])
        #expect(problems.isEmpty, "\(problems)")
    }

    /// An unknown name fails `check` (a slip in PIXELGATE_WRITE_KEYS
    /// would accept every key) but is no reason to stop answering hits; the
    /// closest known name is offered, and a file's line is named.
    @Test func unknownNamesFailCheckAndSayWhatWasMeant() {
        let (_, problems) = PixelConfiguration.resolve(environment: ["PIXELGATE_RESPONCE": "gif", "HOME": "/root", "PIXELGATE_ZZZ": "1"])
        #expect(problems == [
            ConfigurationProblem(setting: "PIXELGATE_RESPONCE", message: "unknown setting (ignored); did you mean PIXELGATE_RESPONSE?",
                                 isFatal: false, failsCheck: true),
            ConfigurationProblem(setting: "PIXELGATE_ZZZ", message: "unknown setting (ignored)", isFatal: false, failsCheck: true),
        ])
        let (_, fromFile) = PixelConfiguration.resolve(environment: [:], fileText: "# x\nPIXELGATE_WRITE_KEY=k\n", fileName: "/etc/p.env")
        #expect(fromFile == [ConfigurationProblem(setting: "PIXELGATE_WRITE_KEY (/etc/p.env line 2)",
                                                  message: "unknown setting (ignored); did you mean PIXELGATE_WRITE_KEYS?",
                                                  isFatal: false, failsCheck: true)])
    }

    @Test(arguments: [
        ("PIXELGATE_WRITE_KEY", "PIXELGATE_WRITE_KEYS"), ("PIXELGATE_SPOOLDIR", "PIXELGATE_SPOOL_DIR"),
        ("pixelgate_sink", "PIXELGATE_SINK"), ("PIXELGATE_DATA_PLANE", "PIXELGATE_DATA_PLANE_URL"),
        ("PIXELGATE_SNIK", "PIXELGATE_SINK"), ("PIXELGATE_FROBNICATE", nil),
    ] as [(String, String?)])
    func closestSettingName(_ typed: String, _ meant: String?) {
        #expect(Spelling.closest(to: typed, among: PixelConfiguration.settingNames) == meant)
    }

    @Test func fileIsReadAndEnvironmentWins() {
        let file = """
        # pixelgate settings
        export PIXELGATE_RESPONSE=gif
        PIXELGATE_SPOOL_DIR = "/srv/from-file"
        PIXELGATE_WRITE_KEYS='a,b'

        """
        let (config, problems) = PixelConfiguration.resolve(environment: ["PIXELGATE_SPOOL_DIR": "/srv/env"], fileText: file, fileName: "/etc/pixelgate.conf")
        #expect(problems.isEmpty)
        #expect(config.response == .gif)
        #expect(config.spoolDirectory == "/srv/env")
        #expect(config.writeKeys == ["a", "b"])
        #expect(config.sources["PIXELGATE_RESPONSE"] == "/etc/pixelgate.conf")
        #expect(config.sources["PIXELGATE_SPOOL_DIR"] == "environment")
    }

    @Test func malformedFileLinesAreNamed() {
        let (_, problems) = PixelConfiguration.resolve(environment: [:], fileText: "PIXELGATE_RESPONSE=gif\njust words\n", fileName: "/etc/p.conf")
        #expect(problems == [ConfigurationProblem(setting: "/etc/p.conf:2", message: "not a NAME=value line of UTF-8 text", isFatal: true)])
    }

    /// Files saved on Windows or by hand: a BOM, CRLF line ends and `;`
    /// comments used to make every hit 500.
    @Test func aFileWithABOMCRLFAndSemicolonCommentsReads() {
        let text = "\u{FEFF}; pixelgate settings\r\nPIXELGATE_RESPONSE=gif\r\n# a comment\r\n\r\nPIXELGATE_MAX_PAIRS=100\r\n"
        let (config, problems) = PixelConfiguration.resolve(environment: [:], fileText: text, fileName: "f")
        #expect(problems.isEmpty, "\(problems)")
        #expect(config.response == .gif)
        #expect(config.limits.maxPairs == 100)
    }

    /// Line by line as systemd's EnvironmentFile= reads them: spaces around
    /// names and values, `export`, one pair of quotes, `=` inside a value.
    @Test func settingsFileLinesParseLikeAnEnvironmentFile() {
        let text = "  \tPIXELGATE_A = 'x y' \n=novalue\nPIX-BAD=1\nexport   B=\"q\"\n  # c\nC=\"\"\nD=\"\nE=a=b\nnoequals\r\nF=é\r\n"
        #expect(ConfigFile.parse(text) == [
            .setting(name: "PIXELGATE_A", value: "x y", line: 1),
            .malformed(line: 2), .malformed(line: 3),
            .setting(name: "B", value: "q", line: 4),
            .setting(name: "C", value: "", line: 6),
            .setting(name: "D", value: "\"", line: 7),
            .setting(name: "E", value: "a=b", line: 8),
            .malformed(line: 9),
            .setting(name: "F", value: "é", line: 10),
        ])
        #expect(ConfigFile.parse("").isEmpty && ConfigFile.parse("\u{FEFF}").isEmpty)
        // Any bytes in a comment; a value that is not UTF-8 is refused.
        #expect(ConfigFile.parse(bytes: Array("# caf".utf8) + [0xE9] + Array("\nA=1\nB=x".utf8) + [0xFF]) == [
            .setting(name: "A", value: "1", line: 2), .malformed(line: 3),
        ])
    }

    @Test(arguments: [
        ("https://user:secret@dp.example.com/x", "https://***@dp.example.com/x"),
        ("https://user:p%40ss@dp.example.com:8080", "https://***@dp.example.com:8080"),
        ("https://dp.example.com/a@b", "https://dp.example.com/a@b"),
        ("https://dp.example.com", "https://dp.example.com"),
        ("not a url", "not a url"),
    ])
    func credentialsInURLsAreMasked(_ c: (String, String)) {
        #expect(URLRedaction.redacted(c.0) == c.1)
        let (config, _) = PixelConfiguration.resolve(environment: ["PIXELGATE_DATA_PLANE_URL": c.0])
        if c.0.hasPrefix("https://") {
            #expect(config.effectiveSettings.first { $0.name == "PIXELGATE_DATA_PLANE_URL" }?.value == c.1)
        }
    }
}
