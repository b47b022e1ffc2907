import Testing
import PixelCore

/// The environment's settings and their sources are held as names and
/// texts in order (issue 27: a dictionary's metadata cost every CGI hit);
/// they must behave as the dictionary did where the settings read them.
@Suite("Setting names and texts")
struct SettingValuesTests {
    @Test func aLaterTextReplacesAnEarlierOneInPlace() {
        var values: SettingValues = ["PIXELGATE_SINK": "spool", "PIXELGATE_SPOOL_DIR": "/a"]
        values["PIXELGATE_SINK"] = "forward"
        values["PIXELGATE_GZIP"] = "false"
        #expect(values.names == ["PIXELGATE_SINK", "PIXELGATE_SPOOL_DIR", "PIXELGATE_GZIP"])
        #expect(values.values == ["forward", "/a", "false"])
        #expect(values["PIXELGATE_SINK"] == "forward")
        #expect(values["PIXELGATE_NOPE"] == nil)
        #expect(values.count == 3)
    }

    @Test func settingNilRemovesTheName() {
        var values: SettingValues = ["A": "1", "B": "2", "C": "3"]
        values["B"] = nil
        values["Z"] = nil
        #expect(values.names == ["A", "C"])
        #expect(values.values == ["1", "3"])
        #expect(values["B"] == nil)
    }

    @Test func aNameGivenTwiceKeepsItsLastText() {
        let values = SettingValues(names: ["A", "B", "A"], values: ["1", "2", "3"])
        #expect(values.names == ["A", "B"])
        #expect(values["A"] == "3")
        #expect(values == ["A": "3", "B": "2"])
        #expect(SettingValues().isEmpty)
    }

    /// Where each setting came from, as `pixelgate check` shows it: the
    /// environment over the file, and nothing for a default.
    @Test func theSourcesNameTheEnvironmentOverTheFile() {
        let (config, problems) = PixelConfiguration.resolve(
            environment: ["PIXELGATE_SINK": "spool", "PIXELGATE_CONFIG": "/etc/x.env", "PATH": "/bin"],
            fileText: "PIXELGATE_SINK=forward\nPIXELGATE_GZIP=false\n", fileName: "/etc/x.env")
        #expect(problems.isEmpty, "\(problems)")
        #expect(config.sources["PIXELGATE_SINK"] == "environment")
        #expect(config.sources["PIXELGATE_GZIP"] == "/etc/x.env")
        #expect(config.sources["PIXELGATE_CONFIG"] == nil)
        #expect(config.sources["PIXELGATE_RESPONSE"] == nil)
        #expect(config.sink == .spool && config.gzip == false)
    }
}
