import PixelCore
import PixelServer
import PixelSpool
import PixelSystem

/// `pixelgate stats`: the backlog waiting for the drain, what the data
/// plane took and when, what was refused and dropped, for a person or for
/// monitoring (JSON, or node_exporter's textfile collector).
struct StatsCommand: Subcommand {
    static let name = "stats"
    static let synopses = ["stats [--format text|json|prometheus] [--output FILE]"]
    static let summary = "the backlog waiting for the drain, deliveries (totals, the last delivery and the last failure), refused hits by reason and hits dropped by choice"
    static let details = """
    --format prometheus writes node_exporter's textfile format (metrics named
    pixelgate_…, labelled with the spool); with --output the file is replaced
    in one rename, as the textfile collector needs. Counters start when the
    spool does and survive restarts: they live in the spool's .refused,
    .unstored, .dropped and .delivery files.

    It also says whether a hit's event could be stored now, as the health
    route does, for the user running stats: a spool that refuses hits (503)
    or settings that make every hit 500 are not a calm spool.

    Exit codes:
      0   the figures were written, and hits are being stored
      1   the spool does not exist or cannot be read, FILE cannot be written,
          or hits are not being stored now (the figures are written)
      2   usage: a wrong option
      78  configuration wrong: the settings name no usable spool
    """

    enum Format: String, CaseIterable {
        case text, json, prometheus
    }

    static let format = Option<Format>("--format", "FORMAT", takes: "text, json or prometheus",
                                       help: "text (the default), json (one object) or prometheus (node_exporter's textfile format)") { Format(rawValue: $0) }
    static let json = Flag("--json", help: "the same as --format json")
    static let output = Option<String>("--output", "FILE", takes: "a file path",
                                       help: "write to FILE (replaced in one rename) instead of standard output") { $0.isEmpty ? nil : $0 }
    static let options = [format.spec, json.spec, output.spec]

    let format: Format
    let output: String?

    init(_ arguments: ParsedArguments) throws(UsageError) {
        try Self.noArguments(arguments, "stats takes only options (got '\(arguments.positionals.first ?? "")')")
        let chosen = arguments[Self.format]
        if arguments[Self.json], let chosen, chosen != .json {
            throw UsageError("--json and --format \(chosen.rawValue) ask for different formats")
        }
        format = arguments[Self.json] ? .json : chosen ?? .text
        output = arguments[Self.output]
    }

    func run() -> Int32 {
        let (configuration, problems) = ConfigurationLoader.load()
        if let fatal = problems.first(where: { $0.isFatal && ($0.setting == "PIXELGATE_SPOOL_DIR" || $0.setting == "PIXELGATE_CONFIG") }) {
            printError("pixelgate: configuration: \(fatal)\n")
            return Exit.configuration
        }
        if let left = ConfigurationLoader.eventsLeftInFormerDefault(spoolDirectory: configuration.spoolDirectory) {
            printError("pixelgate: warning: \(left)\n")
        }
        let layout = SpoolLayout(directory: configuration.spoolDirectory)
        // A mistyped path must not read as an idle spool: no figures at all.
        switch Result(catching: { () throws(SystemError) in try Sys.statIfExists(layout.directory) }) {
        case .success(nil):
            printError("pixelgate: no spool at \(layout.directory): nothing was ever stored there, or the path is wrong\n")
            return Exit.localFailure
        case .success(let st?) where st.st_mode & ModeBits.typeMask != ModeBits.directory:
            printError("pixelgate: the spool \(layout.directory) is not a directory\n")
            return Exit.localFailure
        case .failure(let error):
            printError("pixelgate: cannot read the spool: \(error)\n")
            return Exit.localFailure
        default: break
        }
        let now = SystemClock.nowMillis()
        let backlog: SpoolStatus.Backlog
        do {
            backlog = try SpoolStatus.backlog(layout, nowMillis: now)
        } catch {
            printError("pixelgate: cannot read the spool: \(error)\n")
            return Exit.localFailure
        }
        // What a hit would be answered now: 500 while a setting is unusable,
        // 503 while the spool cannot take an event (the health route's test).
        let fatal = problems.filter(\.isFatal)
        let refusal: HitRefusal? = !fatal.isEmpty
            ? HitRefusal(status: 500, reason: fatal.map(\.description).joined(separator: "; "))
            : SpoolStatus.unavailability(layout, minimumFreeBytes: configuration.limits.maxEventBytes).map { HitRefusal(status: 503, reason: $0) }
        let text: String
        switch format {
        case .text: text = Self.text(backlog, spool: layout.directory, nowMillis: now, refusal: refusal)
        case .json: text = Self.json(backlog, spool: layout.directory, refusal: refusal)
        case .prometheus: text = Self.prometheus(backlog, spool: layout.directory, refusal: refusal)
        }
        let status = refusal == nil ? Exit.ok : Exit.localFailure
        guard let output else {
            printOut(text)
            return status
        }
        do {
            try replaceFile(output, with: Array(text.utf8))
        } catch {
            printError("pixelgate: cannot write \(output): \(error)\n")
            return Exit.localFailure
        }
        if let refusal { printError("pixelgate: hits are answered \(refusal.status) now: \(refusal.reason)\n") }
        return status
    }

    /// Why hits would not be stored now, and their answer.
    struct HitRefusal {
        var status: Int
        var reason: String
    }

    /// Events pixelgate answered 200 for and kept: delivered (by the drain
    /// or forwarding), waiting in the spool, or refused by the data plane
    /// and kept in rejected/upstream.ndjson; by route, and `other` for those
    /// whose route is not known (delivered before routes were counted, or
    /// lines pixelgate did not write).
    static func stored(_ backlog: SpoolStatus.Backlog) -> (total: Int, page: Int, track: Int, click: Int, other: Int) {
        func count(_ value: UInt64) -> Int { Int(truncatingIfNeeded: min(value, UInt64(Int.max / 4))) }
        let kept = backlog.kept.page + backlog.kept.track + backlog.kept.click + backlog.kept.unknown
        let total = count(backlog[.events]) + backlog.events + kept
        func of(_ route: PixelRoute) -> Int { count(backlog[DeliverySlot.events(route)]) + backlog.routes[route] + backlog.kept[route] }
        let (page, track, click) = (of(.page), of(.track), of(.click))
        return (total, page, track, click, max(0, total - page - track - click))
    }

    /// A time from a counter file, or nil for never, and for a value no
    /// clock gives (past the year 9999: a damaged or forged file).
    static func when(_ millis: UInt64) -> Int64? {
        millis == 0 || millis > 253_402_300_799_999 ? nil : Int64(millis)
    }

    static func lastFailure(_ backlog: SpoolStatus.Backlog) -> (at: Int64, kind: String, status: Int)? {
        guard let at = when(backlog[.lastFailureMillis]) else { return nil }
        let kind = DeliveryFailure(rawValue: Int(truncatingIfNeeded: backlog[.lastFailureKind]))?.name ?? "unknown"
        return (at, kind, Int(truncatingIfNeeded: backlog[.lastFailureStatus]))
    }

    static func text(_ backlog: SpoolStatus.Backlog, spool: String, nowMillis: Int64, refusal: HitRefusal?) -> String {
        func ago(_ at: Int64) -> String {
            let seconds = max(0, nowMillis - at) / 1000
            if seconds < 120 { return "\(seconds) s ago" }
            if seconds < 7200 { return "\(seconds / 60) min ago" }
            return seconds < 172_800 ? "\(seconds / 3600) h ago" : "\(seconds / 86_400) days ago"
        }
        let age = backlog.oldestAgeSeconds.map { "oldest \($0) s" } ?? "none waiting"
        var out = "spool \(spool)\n"
        out += "hits: " + (refusal.map { "NOT stored now, answered \($0.status): \($0.reason)" } ?? "stored") + "\n"
        let stored = Self.stored(backlog)
        out += "stored: \(stored.total) events (page \(stored.page), track \(stored.track), click \(stored.click), other \(stored.other))\n"
        out += "backlog: \(backlog.files) file(s), \(backlog.events) events, \(backlog.bytes) bytes, \(age)\n"
        out += "delivered: \(backlog[.events]) events in \(backlog[.batches]) batch(es), \(backlog[.bytes]) bytes; "
            + "refused by the data plane: \(backlog[.refusedEvents]) events\n"
        out += "last delivery: " + (when(backlog[.lastDeliveryMillis]).map { "\(ISO8601.format(millis: $0)) (\(ago($0)))" } ?? "never") + "\n"
        out += "failures: " + DeliveryFailure.allCases.map { "\($0.name) \(backlog[DeliverySlot.failures($0)])" }.joined(separator: ", ") + "\n"
        out += "last failure: " + (lastFailure(backlog).map {
            "\(ISO8601.format(millis: $0.at)) (\(ago($0.at))), \($0.kind)" + ($0.status > 0 ? ", HTTP \($0.status)" : "")
        } ?? "none") + "\n"
        out += "rejected: \(backlog.rejectedRecords) records, \(backlog.rejectedBytes) bytes\n"
        let refused = PixelError.refusalCodes.enumerated().filter { backlog.refused[$0.offset] > 0 }
        out += "refused hits: " + (refused.isEmpty ? "none" : refused.map { "\($0.element) \(backlog.refused[$0.offset])" }.joined(separator: ", ")) + "\n"
        out += "not stored (answered 503 or 500): " + UnstoredHit.allCases.enumerated().map { "\($1.rawValue) \(backlog.unstored[$0])" }.joined(separator: ", ") + "\n"
        out += "dropped by choice: " + DroppedHit.allCases.enumerated().map { "\($1.rawValue) \(backlog.dropped[$0])" }.joined(separator: ", ") + "\n"
        return out
    }

    /// Counts as JSON numbers: this output is for tools, not a RudderStack event.
    static func json(_ backlog: SpoolStatus.Backlog, spool: String, refusal: HitRefusal?) -> String {
        var out = JSONWriter()
        func fields(_ names: [String], _ values: [Int]) {
            for (i, name) in names.enumerated() {
                if i > 0 { out.raw(",") }
                out.string(name)
                out.raw(":")
                out.integer(values[i])
            }
        }
        func object(_ names: [String], _ values: [Int]) {
            out.raw("{")
            fields(names, values)
            out.raw("}")
        }
        func time(_ millis: Int64?) {
            if let millis { out.string(ISO8601.format(millis: millis)) } else { out.null() }
        }
        out.raw(#"{"spool":"#)
        out.string(spool)
        out.raw(#","hits":{"stored":"#)
        if let refusal {
            out.raw(#"false,"status":"#)
            out.integer(refusal.status)
            out.raw(#","reason":"#)
            out.string(refusal.reason)
        } else {
            out.raw("true")
        }
        out.raw(#"},"stored":"#)
        let stored = Self.stored(backlog)
        object(["events", "page", "track", "click", "other"], [stored.total, stored.page, stored.track, stored.click, stored.other])
        out.raw(#","backlog":{"#)
        fields(["files", "events", "bytes"], [backlog.files, backlog.events, backlog.bytes])
        out.raw(#","oldestAgeSeconds":"#)
        if let age = backlog.oldestAgeSeconds { out.integer(age) } else { out.null() }
        out.raw(#"},"delivery":{"#)
        let totals: [DeliverySlot] = [.events, .bytes, .batches, .refusedEvents]
        fields(["events", "bytes", "batches", "refusedEvents"], totals.map { Int(truncatingIfNeeded: min(backlog[$0], UInt64(Int.max))) })
        out.raw(#","failures":"#)
        object(DeliveryFailure.allCases.map(\.name), DeliveryFailure.allCases.map { Int(truncatingIfNeeded: min(backlog[DeliverySlot.failures($0)], UInt64(Int.max))) })
        out.raw(#","lastDelivery":"#)
        time(when(backlog[.lastDeliveryMillis]))
        out.raw(#","lastFailure":"#)
        if let failure = lastFailure(backlog) {
            out.raw(#"{"at":"#)
            time(failure.at)
            out.raw(#","kind":"#)
            out.string(failure.kind)
            out.raw(#","httpStatus":"#)
            if failure.status > 0 { out.integer(failure.status) } else { out.null() }
            out.raw("}")
        } else {
            out.null()
        }
        out.raw(#"},"rejected":"#)
        object(["records", "bytes"], [backlog.rejectedRecords, backlog.rejectedBytes])
        out.raw(#","refused":"#)
        object(PixelError.refusalCodes, backlog.refused)
        out.raw(#","unstored":"#)
        object(UnstoredHit.allCases.map(\.rawValue), backlog.unstored)
        out.raw(#","dropped":"#)
        object(DroppedHit.allCases.map(\.rawValue), backlog.dropped)
        out.raw("}\n")
        return String(decoding: out.bytes, as: UTF8.self)
    }

    /// node_exporter's textfile format: HELP and TYPE once per metric, every
    /// series labelled with the spool, zeros written too (a series that
    /// appears only once something happens cannot be alerted on).
    ///
    /// Names, labels and HELP texts are an interface: node_exporter drops a
    /// whole family when two files in its directory (two versions of
    /// pixelgate, two spools) give it different HELP. Change none of them;
    /// add new metrics instead.
    static func prometheus(_ backlog: SpoolStatus.Backlog, spool: String, refusal: HitRefusal?) -> String {
        let spoolLabel = "spool=\"" + labelValue(spool) + "\""
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ series: [(labels: String, value: String)]) {
            out += "# HELP pixelgate_\(name) \(help)\n# TYPE pixelgate_\(name) \(type)\n"
            for (labels, value) in series {
                out += "pixelgate_\(name){\(spoolLabel)\(labels.isEmpty ? "" : "," + labels)} \(value)\n"
            }
        }
        func seconds(_ millis: UInt64) -> String {
            guard let millis = when(millis) else { return "0" }
            return "\(millis / 1000).\(String(1000 + millis % 1000).dropFirst())"
        }
        metric("backlog_events", "gauge", "Events in the spool waiting for the drain.", [("", "\(backlog.events)")])
        metric("backlog_files", "gauge", "Spool files holding events waiting for the drain.", [("", "\(backlog.files)")])
        metric("backlog_bytes", "gauge", "Bytes of events waiting for the drain.", [("", "\(backlog.bytes)")])
        metric("backlog_oldest_age_seconds", "gauge", "Age of the oldest event waiting for the drain; 0 when none waits.",
               [("", "\(backlog.oldestAgeSeconds ?? 0)")])
        metric("delivered_events_total", "counter", "Events the data plane accepted (drain and forwarding).", [("", "\(backlog[.events])")])
        metric("delivered_bytes_total", "counter", "Bytes of batch bodies the data plane accepted, before compression.", [("", "\(backlog[.bytes])")])
        metric("delivered_batches_total", "counter", "Batches the data plane accepted.", [("", "\(backlog[.batches])")])
        metric("dataplane_refused_events_total", "counter", "Events the data plane refused, kept in rejected/upstream.ndjson.",
               [("", "\(backlog[.refusedEvents])")])
        metric("delivery_failures_total", "counter",
               "Deliveries that failed, by kind: unavailable (each attempt, retried ones too), misdirected (a wrong URL or key), refused (a batch of events).",
               DeliveryFailure.allCases.map { ("kind=\"\($0.name)\"", "\(backlog[DeliverySlot.failures($0)])") })
        metric("last_delivery_timestamp_seconds", "gauge", "When the data plane last accepted a batch (Unix time); 0 for never.",
               [("", seconds(backlog[.lastDeliveryMillis]))])
        metric("last_failure_timestamp_seconds", "gauge", "When a delivery last failed (Unix time); 0 for never.",
               [("", seconds(backlog[.lastFailureMillis]))])
        metric("last_failure_http_status", "gauge", "The data plane's HTTP status at the last failure; 0 when it gave none (a network error, a timeout).",
               [("", "\(backlog[.lastFailureStatus])")])
        metric("rejected_records", "gauge", "Records in rejected/ (refused hits, refused events, unreadable lines).",
               [("", "\(backlog.rejectedRecords)")])
        metric("rejected_bytes", "gauge", "Bytes in rejected/.", [("", "\(backlog.rejectedBytes)")])
        metric("refused_hits_total", "counter", "Hits answered 4xx, by reason.",
               PixelError.refusalCodes.enumerated().map { ("reason=\"\($0.element)\"", "\(backlog.refused[$0.offset])") })
        metric("unstored_hits_total", "counter", "Accepted hits whose event could not be kept, answered 503 (unavailable) or 500 (misconfigured).",
               UnstoredHit.allCases.enumerated().map { ("reason=\"\($0.element.rawValue)\"", "\(backlog.unstored[$0.offset])") })
        metric("dropped_hits_total", "counter", "Hits answered as usual but stored nowhere by the operator's choice, by reason.",
               DroppedHit.allCases.enumerated().map { ("reason=\"\($0.element.rawValue)\"", "\(backlog.dropped[$0.offset])") })
        // Added later, beside the families above, which stay as they were:
        // a class under a label of its own, times as timestamps (a
        // recording rule need not know when the file was written), and the
        // build, as exporters give it.
        let classes = DroppedHit.allCases.enumerated().filter { $0.element != .consent }
        metric("class_dropped_hits_total", "counter", "Hits of a class whose action is drop (PIXELGATE_HIT_CLASSES), answered as usual and stored nowhere.",
               classes.map { ("class=\"\($0.element.rawValue)\"", "\(backlog.dropped[$0.offset])") })
        metric("consent_dropped_hits_total", "counter", "Hits of visitors who asked not to be tracked, stored nowhere (PIXELGATE_CONSENT=drop).",
               [("", "\(backlog.dropped[DroppedHit.allCases.firstIndex(of: .consent)!])")])
        metric("backlog_oldest_timestamp_seconds", "gauge", "When the oldest event waiting for the drain was received (Unix time); 0 when none waits.",
               [("", backlog.oldestMillis.map { seconds(UInt64(max(0, $0))) } ?? "0")])
        let stored = Self.stored(backlog)
        // A gauge, not a counter: it is added up from three places at each
        // run (delivered, waiting, kept), and may dip for a moment (a pass
        // has saved its progress but not yet counted its deliveries) or for
        // good (rejected/ emptied by hand), which a counter must never do.
        metric("stored_events", "gauge",
               "Events answered 200 and kept, added up from the spool: delivered, waiting, or refused by the data plane and kept; by the route of their hit (other: route not known).",
               [("route=\"page\"", "\(stored.page)"), ("route=\"track\"", "\(stored.track)"), ("route=\"click\"", "\(stored.click)"),
                ("route=\"other\"", "\(stored.other)")])
        metric("hits_stored", "gauge", "1 while a hit's event can be stored (the health route's test, as the user running stats); 0 while hits are answered 503 or 500.",
               [("", refusal == nil ? "1" : "0")])
        out += "# HELP pixelgate_build_info The pixelgate that wrote these figures.\n# TYPE pixelgate_build_info gauge\n"
        out += "pixelgate_build_info{\(spoolLabel),version=\"\(PixelgateCommand.version)\"} 1\n"
        return out
    }

    /// A label value with `\`, `"` and newlines escaped.
    static func labelValue(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
