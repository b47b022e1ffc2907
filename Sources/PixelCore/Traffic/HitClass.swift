/// Who or what made a hit, as far as its headers tell (`TrafficRules`).
public enum HitClass: String, Sendable, CaseIterable {
    /// A person's browser or mail client showing the pixel.
    case human
    /// A mail provider fetching images for its users (Gmail, Yahoo, Apple
    /// Mail Privacy Protection): an open that may not be a person's.
    case mailProxy = "mail-proxy"
    /// A browser fetching ahead of a navigation that may never happen.
    case prefetch
    /// A crawler, link previewer or scanner.
    case bot

    /// The class in `slot` (a switch: `allCases` would build an array
    /// on every hit).
    init(slot: UInt8) {
        switch slot {
        case 0: self = .human
        case 1: self = .mailProxy
        case 2: self = .prefetch
        default: self = .bot
        }
    }

    /// Its place in `allCases`.
    var slot: Int {
        switch self {
        case .human: return 0
        case .mailProxy: return 1
        case .prefetch: return 2
        case .bot: return 3
        }
    }
}

/// What pixelgate does with a hit of a class (`PIXELGATE_HIT_CLASSES`).
public enum ClassAction: String, Sendable {
    /// Store the event as if there were no classes.
    case record
    /// Store it with `context.traffic` saying its class and the rule.
    case mark
    /// Answer as usual, store nothing, count it.
    case drop
}

/// The action for each class.
public struct HitClassPolicy: Sendable, Equatable {
    // Four fields, not an array: every hit reads the policy, and an array
    // of a type of ours costs a CGI start its generic class metadata
    // (11,000 instructions, issue 27).
    var human: ClassAction
    var mailProxy: ClassAction
    var prefetch: ClassAction
    var bot: ClassAction

    /// People recorded as they are; machines marked, so that nothing is
    /// lost and every count can leave them out.
    public static let `default` = HitClassPolicy(human: .record, mailProxy: .mark, prefetch: .mark, bot: .mark)

    public init(human: ClassAction, mailProxy: ClassAction, prefetch: ClassAction, bot: ClassAction) {
        self.human = human
        self.mailProxy = mailProxy
        self.prefetch = prefetch
        self.bot = bot
    }

    public subscript(hitClass: HitClass) -> ClassAction {
        get {
            switch hitClass {
            case .human: return human
            case .mailProxy: return mailProxy
            case .prefetch: return prefetch
            case .bot: return bot
            }
        }
        set {
            switch hitClass {
            case .human: human = newValue
            case .mailProxy: mailProxy = newValue
            case .prefetch: prefetch = newValue
            case .bot: bot = newValue
            }
        }
    }

    /// Reads `class=action` pairs, comma-separated, over the default;
    /// the message names what is wrong.
    public static func parse(_ text: String) throws(SettingProblem) -> HitClassPolicy {
        var policy = HitClassPolicy.default
        for item in SettingsTable.listItems(text) {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces().lowercased() }
            guard parts.count == 2 else {
                throw SettingProblem("each entry must be class=action, got '\(item.prefix(40))'")
            }
            guard let hitClass = HitClass(rawValue: parts[0]) else {
                throw SettingProblem("unknown class '\(parts[0].prefix(40))' (human, mail-proxy, prefetch or bot)")
            }
            guard let action = ClassAction(rawValue: parts[1]) else {
                throw SettingProblem("unknown action '\(parts[1].prefix(40))' for \(parts[0]) (record, mark or drop)")
            }
            policy[hitClass] = action
        }
        return policy
    }

    /// Every class is recorded as is: the class changes nothing.
    public var recordsAll: Bool { human == .record && mailProxy == .record && prefetch == .record && bot == .record }

    /// Every class with its action, as `check` shows it.
    public var description: String {
        HitClass.allCases.map { "\($0.rawValue)=\(self[$0].rawValue)" }.joined(separator: ",")
    }
}
