/// A page URL's `utm_*` parameters as RudderStack's JavaScript SDK turns
/// them into `context.campaign` (SPEC §3): each parameter of the URL's
/// query (before any `#`) whose name starts `utm_`, named without the
/// prefix, `utm_campaign` as `name`; values decoded as a browser's
/// `URLSearchParams` decodes them (`+` is a space, `%XX` a byte, a `%` not
/// followed by two hex digits stays as it is, bytes that are no UTF-8 become
/// U+FFFD); of a repeated name the last value counts, in the place of the
/// first. A bare `utm_` names nothing and is left out.
enum Campaign {
    static let prefix: StaticString = "utm_"
    /// The most names a campaign takes (the SDK's five and a few more): a
    /// URL of thousands of `utm_` names costs no more than this many.
    static let maxMembers = 16

    /// The campaign's members, in order, or none when the URL has no
    /// `utm_` parameter.
    static func parameters(_ url: UnsafeBufferPointer<UInt8>) -> [(name: String, value: String)] {
        // The query is what lies between the first `?` and a `#`: a `?`
        // inside the fragment (`#/route?x`) is not one.
        let end = url.firstIndex(of: UInt8(ascii: "#")) ?? url.count
        guard let question = url[..<end].firstIndex(of: UInt8(ascii: "?")) else { return [] }
        let query = UnsafeBufferPointer(rebasing: url[(question + 1)..<end])
        let utm = prefix.withUTF8Buffer { Array($0) }
        var members: [(name: String, value: String)] = []
        var start = 0
        while start <= query.count {
            let stop = query[start...].firstIndex(of: UInt8(ascii: "&")) ?? query.count
            let pair = query[start..<stop]
            start = stop + 1
            if pair.isEmpty { continue }
            let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            let key = decoded(pair[pair.startIndex..<equals])
            guard key.count > utm.count, key.starts(with: utm) else { continue }
            var name = String(decoding: key[utm.count...], as: UTF8.self)
            if name == "campaign" { name = "name" }
            let value = String(decoding: decoded(equals < pair.endIndex ? pair[(equals + 1)...] : pair[equals..<equals]), as: UTF8.self)
            if let known = members.firstIndex(where: { $0.name == name }) {
                members[known].value = value
            } else if members.count < maxMembers {
                members.append((name, value))
            }
        }
        return members
    }

    /// Whether the URL's query (after the first `?`, before a `#`) holds
    /// `utm_` or `utm%`: one tight pass, nothing made, for the page URLs
    /// (nearly all) that carry no campaign.
    @inline(__always)
    static func mayHaveParameters(_ url: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = url.baseAddress else { return false }
        let n = url.count
        var i = 0
        while i < n {
            let b = base[i]
            if b == UInt8(ascii: "#") { return false }
            if b == UInt8(ascii: "?") { break }
            i &+= 1
        }
        i &+= 1
        while i &+ 3 < n {
            let b = base[i]
            if b == UInt8(ascii: "#") { return false }
            if b == UInt8(ascii: "u") && base[i &+ 1] == UInt8(ascii: "t") && base[i &+ 2] == UInt8(ascii: "m")
                && (base[i &+ 3] == UInt8(ascii: "_") || base[i &+ 3] == UInt8(ascii: "%")) {
                return true
            }
            i &+= 1
        }
        return false
    }

    /// `application/x-www-form-urlencoded` decoding, as `URLSearchParams`.
    static func decoded(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if b == UInt8(ascii: "%"), i + 2 < bytes.endIndex, let high = QueryDecoder.hexValue(bytes[i + 1]),
                      let low = QueryDecoder.hexValue(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 2
            } else {
                out.append(b)
            }
            i += 1
        }
        return out
    }
}

extension EventBuilder {
    /// `context.campaign` from the page's URL (`context.page.url`, or for a
    /// click without one the link's target), unless the query set any
    /// `context.campaign` itself.
    mutating func addCampaign() {
        // Every page hit comes here: the URL first, and the query's own
        // campaign looked for only when the URL has one to give.
        let context = tree.rootMember(.context)
        var url: ByteSpan?
        if let context, let page = tree.member(context, Word.page.span), let node = tree.member(page, Word.url.span) {
            url = tree.string(at: node)
        }
        if url == nil { url = clickTarget }
        guard let url, Campaign.mayHaveParameters(tree.textBytes(url)) else { return }
        let members = Campaign.parameters(tree.textBytes(url))
        guard !members.isEmpty else { return }
        if let context, tree.member(context, Word.campaign.span) != nil { return }
        let campaign = tree.place(words: ServerPath.contextCampaign)
        tree.reset(campaign, to: .object)
        for member in members {
            tree.append(tree.newNode(.string, key: tree.appendText(member.name), value: tree.appendText(member.value)), to: campaign)
        }
    }
}
