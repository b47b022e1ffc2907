/// The settings file the Debian package installs as
/// `/etc/pixelgate/pixelgate.env` and the tarball carries: every setting,
/// what it does and its default, commented out at that default, but the
/// spool, which a system-wide installation names. Made from
/// `SettingsTable`, as docs/configuration.md's table is; a test keeps
/// `packaging/pixelgate.env` equal to it.
public enum ExampleSettingsFile {
    /// The spool a system-wide installation uses (systemd/pixelgate.tmpfiles).
    public static let systemSpool = "/var/spool/pixelgate"

    public static var text: String {
        var out = """
        # pixelgate's settings: NAME=value lines, read by every way pixelgate runs
        # (CGI and FastCGI under the web server, `pixelgate serve`, the drain), so
        # that all of them share one configuration. A PIXELGATE_* variable in the
        # environment wins over this file; PIXELGATE_CONFIG=/other/file names another
        # file instead. `pixelgate check` shows the settings in force and where each
        # comes from; pixelgate(8) and docs/configuration.md say more.
        #
        # This file holds write keys and signing secrets: keep it readable by root
        # and the web server's group only (0640 root:www-data, as the package makes
        # it) and writable by root alone: pixelgate refuses a settings file that
        # others may write.

        """
        for setting in SettingsTable.settings {
            out += "\n"
            out += wrapped(plain(setting.meaning) + ".")
            out += "# Default: " + plain(setting.defaultText) + ".\n"
            if setting.name == "PIXELGATE_SPOOL_DIR" {
                out += "# Set here for every mode: the web server's CGI user and the drain's share it.\n"
                out += "\(setting.name)=\(systemSpool)\n"
            } else {
                out += "#\(setting.name)=\(defaultValue(setting))\n"
            }
        }
        return out
    }

    /// The value that gives the default: the code span of `defaultText`,
    /// or nothing where the default is described in words (`empty: any`).
    static func defaultValue(_ setting: Setting) -> String {
        let text = setting.defaultText
        guard text.hasPrefix("`"), text.hasSuffix("`"), text.count >= 2, !text.dropFirst().dropLast().contains("`") else { return "" }
        return String(text.dropFirst().dropLast())
    }

    /// Markdown made plain: code spans lose their backticks, a link keeps
    /// its words.
    static func plain(_ markdown: String) -> String {
        var out = ""
        var i = markdown.startIndex
        while i < markdown.endIndex {
            let c = markdown[i]
            if c == "`" {
                i = markdown.index(after: i)
                continue
            }
            if c == "]", markdown[markdown.index(after: i)...].hasPrefix("("),
               let close = markdown[i...].firstIndex(of: ")") {
                i = markdown.index(after: close)
                continue
            }
            if c != "[" { out.append(c) }
            i = markdown.index(after: i)
        }
        return out
    }

    /// `text` as `# ` comment lines of at most 80 columns.
    static func wrapped(_ text: String) -> String {
        var lines: [String] = []
        var line = "#"
        for word in text.split(separator: " ") {
            if line.count > 1 && line.count + 1 + word.count > 80 {
                lines.append(line)
                line = "#"
            }
            line += " " + word
        }
        lines.append(line)
        return lines.map { $0 + "\n" }.joined()
    }
}
