import PixelCore
import PixelServer
import PixelSystem

/// `pixelgate ranges`: the address lists the traffic rules use, where each
/// comes from; `pixelgate ranges import` makes a newer file of them from
/// the files Microsoft and Google publish, for `PIXELGATE_ADDRESS_RANGES`.
struct RangesCommand: Subcommand {
    static let name = "ranges"
    static let synopses = ["ranges", "ranges import [--output FILE] KIND:FILE..."]
    static let summary = "show the address lists the traffic rules match client addresses against, or print a newer file of them made from the published ones"
    static let details = """
    With no argument: each list in use, how many ranges it has, its version,
    whether it is compiled in or read from PIXELGATE_ADDRESS_RANGES, the rule
    that uses it and where it is published.

    With import: reads published files, KIND:FILE each, and writes an
    address-ranges file for PIXELGATE_ADDRESS_RANGES to standard output, or with
    --output to FILE, replaced in one rename and only when every file was read
    (keep it where only root or you may change it). KIND is microsoft
    (Microsoft 365's endpoints JSON; its Exchange Online Protection sets) or
    google (Google's common-crawlers.json or special-crawlers.json; give both).
    A list not imported stays as compiled in.

    Exit codes:
      0   shown, or the file printed
      1   a file could not be read or written, or is not what KIND publishes
      2   usage: a wrong argument
      78  configuration wrong: a setting (PIXELGATE_ADDRESS_RANGES included)
    """
    static let output = Option<String>("--output", "FILE", takes: "a file path",
                                       help: "import: write to FILE (replaced in one rename, and only on success) instead of standard output") { $0.isEmpty ? nil : $0 }
    static let options = [output.spec]

    enum Action {
        case show
        case importing([(PublishedRanges.Kind, String)])
    }
    let action: Action
    let outputPath: String?

    init(_ arguments: ParsedArguments) throws(UsageError) {
        let words = arguments.positionals
        outputPath = arguments[Self.output]
        guard let first = words.first else {
            guard outputPath == nil else { throw UsageError("--output is for ranges import") }
            action = .show
            return
        }
        guard first == "import" else { throw UsageError("ranges takes no argument, or import KIND:FILE... (got '\(first)')") }
        guard words.count > 1 else { throw UsageError("ranges import takes KIND:FILE arguments, KIND microsoft or google") }
        var files: [(PublishedRanges.Kind, String)] = []
        for word in words.dropFirst() {
            guard let colon = word.firstIndex(of: ":"), let kind = PublishedRanges.Kind(rawValue: String(word[..<colon])),
                  word.index(after: colon) < word.endIndex else {
                throw UsageError("'\(word)' is not KIND:FILE, KIND microsoft or google")
            }
            files.append((kind, String(word[word.index(after: colon)...])))
        }
        action = .importing(files)
    }

    func run() -> Int32 {
        switch action {
        case .show: return show()
        case .importing(let files): return importing(files)
        }
    }

    func show() -> Int32 {
        let (configuration, problems) = ConfigurationLoader.load()
        if let problem = problems.first(where: \.isFatal) {
            printError("pixelgate ranges: configuration: \(problem)\n")
            return Exit.configuration
        }
        let replaced = Set(configuration.operatorLists?.lists.map(\.name) ?? [])
        let classifier = configuration.operatorLists?.classifier ?? TrafficClassifier.standard
        var text = ""
        for list in classifier.addressLists {
            let rules = TrafficRules.all.filter { $0.addressList == list.name }.map(\.id).joined(separator: ", ")
            let origin = replaced.contains(list.name) ? "from \(configuration.addressRangesFile)" : "compiled in"
            text += "\(list.name): \(list.first.count) ranges, version \(list.version.isEmpty ? "not given" : list.version), \(origin)\n"
            text += "  rule: \(rules)\n  source: \(list.source)\n"
        }
        printOut(text)
        return Exit.ok
    }

    func importing(_ files: [(PublishedRanges.Kind, String)]) -> Int32 {
        let today = String(ISO8601.format(millis: SystemClock.nowMillis()).prefix(10))
        var text = "# Address ranges for PIXELGATE_ADDRESS_RANGES, made by pixelgate ranges import on \(today).\n"
        for kind in PublishedRanges.Kind.allCases {
            let given = files.filter { $0.0 == kind }
            guard !given.isEmpty else { continue }
            var ranges: [String] = []
            var versions: [String] = []
            for (_, path) in given {
                do {
                    let bytes = try Sys.readFile(path, limit: 64 << 20, followingLinks: true)
                    let (found, date) = try PublishedRanges.ranges(kind, bytes)
                    ranges += found
                    versions.append(date ?? "downloaded by \(today)")
                } catch let error as PublishedRanges.Problem {
                    printError("pixelgate ranges: \(path): \(error)\n")
                    return Exit.localFailure
                } catch {
                    printError("pixelgate ranges: cannot read \(path): \(error)\n")
                    return Exit.localFailure
                }
            }
            text += "\nlist \(kind.listName)\nsource \(kind.source)\nversion \(versions.joined(separator: ", "))\n"
            text += ranges.joined(separator: "\n") + "\n"
        }
        // What is written reads back as pixelgate will read it.
        do throws(AddressRangesProblem) {
            _ = try AddressRanges.parse(text)
        } catch {
            printError("pixelgate ranges: the file made does not read back (\(error)); nothing written\n")
            return Exit.localFailure
        }
        guard text.utf8.count <= ConfigurationLoader.addressRangesLimit else {
            printError("pixelgate ranges: the file made is larger than the \(ConfigurationLoader.addressRangesLimit) bytes pixelgate reads; nothing written\n")
            return Exit.localFailure
        }
        guard let outputPath else {
            printOut(text)
            return Exit.ok
        }
        do {
            try replaceFile(outputPath, with: Array(text.utf8))
        } catch {
            printError("pixelgate ranges: cannot write \(outputPath): \(error)\n")
            return Exit.localFailure
        }
        return Exit.ok
    }
}
